package eventgatetest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventgate/eventgate"
)

// gen makes events whose session ids are unique to one subtest, so that
// subtests sharing a downstream never see each other's events.
type gen struct {
	prefix string
	base   time.Time
	n      int
}

func newGen() *gen {
	id := eventgate.NewID()
	// Times are near now (some systems refuse old events), carry nanoseconds,
	// and are in a zone other than UTC so that a lost zone conversion shows.
	base := time.Now().Truncate(time.Second).Add(123456789 * time.Nanosecond).
		In(time.FixedZone("UTC+05:30", 5*3600+30*60))
	return &gen{prefix: "egt-" + id[len(id)-12:], base: base}
}

func (g *gen) session(name string) string { return g.prefix + "-" + name }

// event returns the next event of session s with ordinary content.
func (g *gen) event(s string) *eventgate.Event {
	i := g.n
	g.n++
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: s,
		Type:      "eventgatetest.step",
		Time:      g.base.Add(time.Duration(i)*time.Millisecond + time.Duration(i%997)*time.Nanosecond),
		Data:      []byte(fmt.Sprintf(`{"seq":%d,"session":%q,"note":"eventgatetest"}`, i, s)),
		Meta:      []byte(fmt.Sprintf(`{"seq":%d,"source":"eventgatetest"}`, i)),
	}
}

// interleaved returns perSession events for each of the named sessions, in
// round-robin order: s1#0, s2#0, …, s1#1, s2#1, ….
func (g *gen) interleaved(perSession int, names ...string) []*eventgate.Event {
	evs := make([]*eventgate.Event, 0, perSession*len(names))
	for i := 0; i < perSession; i++ {
		for _, n := range names {
			evs = append(evs, g.event(g.session(n)))
		}
	}
	return evs
}

// largeData returns a JSON object of exactly size bytes (at least 16).
func largeData(size int) []byte {
	const head, tail = `{"blob":"`, `"}`
	size = max(size, len(head)+len(tail)+1)
	var b strings.Builder
	b.Grow(size)
	b.WriteString(head)
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := 0; i < size-len(head)-len(tail); i++ {
		b.WriteByte(alphabet[(i*7+i/len(alphabet))%len(alphabet)])
	}
	b.WriteString(tail)
	return []byte(b.String())
}

func nameOf(i int) string { return "event #" + strconv.Itoa(i) }
