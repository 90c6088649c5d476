package main

import (
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
)

func (a *app) routesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "routes",
		Short: "List the routes, and forget routes removed from the configuration",
		Long: `routes works on the data directory with the configuration's transports (-c); the
daemon must be stopped, since it holds the directory.

A route removed from the configuration keeps its saved position in the journal,
so the journal is not trimmed past the oldest event it had not delivered. Add
the route back to resume its delivery, or forget it to let the journal shrink.`,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the configured routes and the detached ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := a.withRouteGateway(true, func(gw *eventgate.Gateway) error {
				st := gw.Stats()
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ROUTE\tSTATE\tBACKLOG\tDEAD LETTERS")
				names := make([]string, 0, len(st.Routes))
				for name := range st.Routes {
					names = append(names, name)
				}
				slices.Sort(names)
				for _, name := range names {
					r := st.Routes[name]
					fmt.Fprintf(tw, "%s\tconfigured\t%d\t%d\n", name, r.BacklogEvents, r.DeadLetters)
				}
				for _, name := range st.DetachedRoutes {
					fmt.Fprintf(tw, "%s\tdetached (holds back the journal)\t-\t-\n", name)
				}
				return tw.Flush()
			})
			if errors.Is(err, errNothingRecorded) {
				return a.listUnopenedRoutes()
			}
			return err
		},
	}
	forget := &cobra.Command{
		Use:   "forget <route>",
		Short: "Delete a detached route's saved position so that the journal can be trimmed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRouteGateway(false, func(gw *eventgate.Gateway) error {
				if err := gw.ForgetRoute(args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "forgot route %s\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(list, forget)
	return cmd
}

// listUnopenedRoutes lists the configured routes of a data directory that
// has no journal yet: nothing is waiting and nothing is detached.
func (a *app) listUnopenedRoutes() error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tSTATE\tBACKLOG\tDEAD LETTERS")
	for _, t := range cfg.Transports {
		fmt.Fprintf(tw, "%s\tconfigured\t0\t0\n", t.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "eventgate: nothing recorded in %s yet\n", cfg.DataDir())
	return nil
}
