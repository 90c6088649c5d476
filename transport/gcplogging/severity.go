package gcplogging

import (
	"strings"

	ltype "google.golang.org/genproto/googleapis/logging/type"
)

// severityRules are the built-in rules, tried in order on the lower-cased
// event type; the first whose word the type contains wins.
var severityRules = []struct {
	words    []string
	severity ltype.LogSeverity
}{
	{[]string{"critical", "fatal", "panic"}, ltype.LogSeverity_CRITICAL},
	{[]string{"error", "exception"}, ltype.LogSeverity_ERROR},
	{[]string{"warn"}, ltype.LogSeverity_WARNING},
	{[]string{"debug"}, ltype.LogSeverity_DEBUG},
}

// severities resolves an event type to a severity.
type severities struct {
	exact map[string]ltype.LogSeverity
	def   ltype.LogSeverity
}

func newSeverities(cfg Config) severities {
	s := severities{exact: make(map[string]ltype.LogSeverity, len(cfg.Severities))}
	for typ, name := range cfg.Severities {
		s.exact[typ], _ = parseSeverity(name) // Validate checked them
	}
	s.def, _ = parseSeverity(cfg.DefaultSeverity)
	return s
}

// of returns the severity of an event type: Config.Severities for exactly
// that type, else the first built-in rule that matches, else the default.
func (s severities) of(typ string) ltype.LogSeverity {
	if v, ok := s.exact[typ]; ok {
		return v
	}
	lower := strings.ToLower(typ)
	for _, r := range severityRules {
		for _, w := range r.words {
			if strings.Contains(lower, w) {
				return r.severity
			}
		}
	}
	return s.def
}
