// Package config holds slipway's one typed configuration, loaded by cmd/ from flags and SLIPWAY_*
// variables and passed down. It must not import any other slipway package.
package config
