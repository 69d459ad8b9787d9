// Package testimages builds the small base images that slipway's tests and examples build on,
// without network access: this machine cannot reach Docker Hub, so a base image is assembled
// from local files and pushed into a registry the test or example controls. It must not import
// slipway's workflows, activities, store or server.
package testimages
