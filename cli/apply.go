package cli

import "github.com/spf13/cobra"

func (r *runner) applyCmd() *cobra.Command  { return &cobra.Command{Use: "apply", Hidden: true} }
func (r *runner) exportCmd() *cobra.Command { return &cobra.Command{Use: "export", Hidden: true} }
