package eventgate

import "fmt"

// checkSize refuses an event whose data and metadata together exceed the
// configured maximum event size.
func (g *Gateway) checkSize(ev *Event) error {
	meta := len(ev.Meta)
	switch max := g.cfg.maxEventSize; {
	case len(ev.Data)+meta <= max:
		return nil
	case meta == 0:
		return fmt.Errorf("%w: data is %d bytes, the limit is %d", ErrEventTooLarge, len(ev.Data), max)
	default:
		return fmt.Errorf("%w: data (%d bytes) and meta (%d bytes) exceed the limit of %d", ErrEventTooLarge, len(ev.Data), meta, max)
	}
}
