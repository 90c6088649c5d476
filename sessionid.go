package eventgate

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxSessionIDLen is the longest session id accepted, in bytes.
const MaxSessionIDLen = 200

// ErrInvalidSessionID is matched (errors.Is) by every error ValidateSessionID returns.
var ErrInvalidSessionID = errors.New("invalid session id")

// ValidateSessionID reports whether id can name a session. Session ids become
// directory names, so eventgate rejects, rather than rewrites, any id that a
// file system could interpret: the empty id, "." and "..", a leading dot, the
// separators '/' and '\', NUL and every other control character, invalid
// UTF-8, and ids longer than MaxSessionIDLen bytes. An accepted id is used as
// the directory name unchanged, so two distinct ids never share a directory
// (on a case-sensitive file system).
func ValidateSessionID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidSessionID)
	}
	if len(id) > MaxSessionIDLen {
		return fmt.Errorf("%w: %d bytes long, the limit is %d", ErrInvalidSessionID, len(id), MaxSessionIDLen)
	}
	if id[0] == '.' {
		return fmt.Errorf("%w: %q starts with a dot", ErrInvalidSessionID, id)
	}
	for i := 0; i < len(id); {
		r, size := utf8.DecodeRuneInString(id[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrInvalidSessionID, i)
		case r == '/' || r == '\\':
			return fmt.Errorf("%w: %q contains a path separator", ErrInvalidSessionID, id)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Errorf("%w: control character %U at byte %d", ErrInvalidSessionID, r, i)
		}
		i += size
	}
	return nil
}
