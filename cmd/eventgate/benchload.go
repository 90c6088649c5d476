package main

import (
	"github.com/spf13/cobra"
)

func (a *app) benchLoadCommand() *cobra.Command {
	return &cobra.Command{Use: "bench-load", Hidden: true}
}
