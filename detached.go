package eventgate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// routeReaderPrefix names a route's reader in the journal.
const routeReaderPrefix = "route."

// ErrUnknownRoute is matched by the error ForgetRoute returns for a name that
// is neither configured nor detached.
var ErrUnknownRoute = errors.New("eventgate: unknown route")

// DetachedRoutes returns, sorted, the routes that have a saved position in
// the journal but are not configured in this Gateway: routes removed from the
// configuration. Each keeps the journal from being trimmed past the oldest
// event it had not delivered, so the journal grows until the route is
// configured again (it then resumes where it stopped) or forgotten
// (ForgetRoute). Open logs a warning for each.
func (g *Gateway) DetachedRoutes() []string {
	var out []string
	for _, r := range g.j.Readers() {
		name, ok := strings.CutPrefix(r, routeReaderPrefix)
		if ok && !g.configured(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// ForgetRoute deletes the saved position of a detached route, so that it no
// longer holds back the journal: the journal segments every remaining reader
// has passed are deleted at once. The route's dead letters are kept. It fails
// for a configured route, and with ErrUnknownRoute for a name that has no
// saved position.
func (g *Gateway) ForgetRoute(name string) error {
	if g.configured(name) {
		return fmt.Errorf("eventgate: route %s is configured; remove it from the configuration first", name)
	}
	if _, ok := g.j.ReaderSeq(routeReaderPrefix + name); !ok {
		return fmt.Errorf("%w: %q has no saved position", ErrUnknownRoute, name)
	}
	if err := g.j.RemoveReader(routeReaderPrefix + name); err != nil {
		return fmt.Errorf("eventgate: forget route %s: %w", name, err)
	}
	g.cfg.logger.Info("forgot detached route", "route", name)
	return nil
}

func (g *Gateway) configured(name string) bool {
	return slices.ContainsFunc(g.cfg.routes, func(r routeSpec) bool { return r.name == name })
}

// warnDetached logs each detached route and how far behind it holds the
// journal.
func (g *Gateway) warnDetached() {
	next := g.j.NextSeq()
	for _, name := range g.DetachedRoutes() {
		seq, _ := g.j.ReaderSeq(routeReaderPrefix + name)
		g.cfg.logger.Warn("a route that is no longer configured holds back the journal; configure it again, or forget it (eventgate routes forget)",
			"route", name, "undelivered_events", next-min(seq, next))
	}
}
