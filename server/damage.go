package server

import (
	"fmt"
	"net/http"

	"github.com/eventgate/eventgate"
)

// DamageList is the answer of GET /v1/damage.
type DamageList struct {
	Unacknowledged int                       `json:"unacknowledged"`
	Damage         []eventgate.JournalDamage `json:"damage"`
}

// DamageAck is the answer of POST /v1/damage/ack.
type DamageAck struct {
	Acknowledged int `json:"acknowledged"`
}

// handleDamage lists the journal damage found so far.
func (s *Server) handleDamage(w http.ResponseWriter, r *http.Request) {
	ds := s.gw.Damage()
	res := DamageList{Damage: ds}
	for _, d := range ds {
		if !d.Acknowledged {
			res.Unacknowledged++
		}
	}
	writeJSON(w, http.StatusOK, res)
}

// handleDamageAck acknowledges every journal damage found so far: /readyz
// stops reporting it.
func (s *Server) handleDamageAck(w http.ResponseWriter, r *http.Request) {
	n, err := s.gw.AckDamage()
	if err != nil {
		s.opts.Logger.Error("acknowledge journal damage", "err", err)
		writeError(w, http.StatusInternalServerError, "acknowledging the damage failed; see the server log")
		return
	}
	writeJSON(w, http.StatusOK, DamageAck{Acknowledged: n})
}

// damageNotReady describes unacknowledged journal damage for /readyz, or
// returns "" when there is none.
func damageNotReady(st eventgate.Stats) string {
	if st.DamageUnacked == 0 {
		return ""
	}
	return fmt.Sprintf("%d journal damage report(s) not acknowledged: records were lost; "+
		"see GET /v1/damage (or eventgate damage), then POST /v1/damage/ack (or eventgate damage ack)", st.DamageUnacked)
}
