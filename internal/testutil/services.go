// Package testutil holds helpers shared by eventgate's own tests.
package testutil

import (
	"net"
	"os"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing test service
// from a skip into a failure. CI sets it to 1.
const RequireEnv = "EVENTGATE_REQUIRE_SERVICES"

// Required reports whether tests must fail, rather than skip, when a service
// they need is unreachable.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Service returns addr when a TCP connection to it succeeds. When it does not,
// the test fails if services are required (EVENTGATE_REQUIRE_SERVICES=1) and
// is skipped with a message naming the service otherwise. envVar, when set in
// the environment, overrides addr.
func Service(tb testing.TB, name, envVar, addr string) string {
	tb.Helper()
	if v := os.Getenv(envVar); v != "" {
		addr = v
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		if Required() {
			tb.Fatalf("%s is required (%s=1) but unreachable at %s: %v", name, RequireEnv, addr, err)
		}
		tb.Skipf("%s not reachable at %s (%v); set %s to its address, or start it", name, addr, err, envVar)
	}
	_ = c.Close()
	return addr
}
