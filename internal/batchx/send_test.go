package batchx

import (
	"errors"
	"maps"
	"testing"

	"github.com/eventgate/eventgate"
)

var (
	errWhole = errors.New("whole request failed")
	errHeld  = errors.New("held back")
	errOne   = errors.New("one item refused")
)

// outcome is what one chunk's send does.
type outcome struct {
	stop    bool
	whole   error
	refused []int // items the system refuses one by one
}

func run(t *testing.T, chunks [][]int, complete bool, outs []outcome) (error, map[int]error, int) {
	t.Helper()
	failed := map[int]error{}
	sent := 0
	err := SendChunks(chunks, func(i int) int { return i }, failed, complete,
		func() error { return errHeld },
		func(chunk []int) (bool, error) {
			o := outs[sent]
			sent++
			for _, i := range o.refused {
				failed[i] = errOne
			}
			return o.stop, o.whole
		})
	return err, failed, sent
}

func TestSendChunks(t *testing.T) {
	chunks := [][]int{{0, 1}, {2, 3}, {4}}
	cases := []struct {
		name     string
		complete bool
		outs     []outcome
		wantErr  error
		wantSent int
		want     map[int]error
	}{
		{"all accepted", true, []outcome{{}, {}, {}}, nil, 3, map[int]error{}},
		{"single failures go on", true, []outcome{{refused: []int{1}}, {}, {refused: []int{4}}}, nil, 3,
			map[int]error{1: errOne, 4: errOne}},
		{"first fails whole, nothing accepted", true, []outcome{{stop: true, whole: errWhole}}, errWhole, 1, map[int]error{}},
		{"first fails whole after an encoding failure", false, []outcome{{stop: true, whole: errWhole}}, nil, 1,
			map[int]error{0: errWhole, 1: errWhole, 2: errHeld, 3: errHeld, 4: errHeld}},
		{"second fails whole", true, []outcome{{}, {stop: true, whole: errWhole}}, nil, 2,
			map[int]error{2: errWhole, 3: errWhole, 4: errHeld}},
		{"stop without whole holds the rest", true, []outcome{{stop: true, refused: []int{0}}}, nil, 1,
			map[int]error{0: errOne, 2: errHeld, 3: errHeld, 4: errHeld}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err, failed, sent := run(t, chunks, tc.complete, tc.outs)
			if err != tc.wantErr {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if sent != tc.wantSent {
				t.Fatalf("sent %d chunks, want %d", sent, tc.wantSent)
			}
			if tc.wantErr == nil && !maps.Equal(failed, tc.want) {
				t.Fatalf("failed = %v, want %v", failed, tc.want)
			}
		})
	}
}

func TestResult(t *testing.T) {
	if err := Result(map[int]error{}); err != nil {
		t.Fatalf("Result(empty) = %v", err)
	}
	failed := map[int]error{3: errOne}
	var be *eventgate.BatchError
	if err := Result(failed); !errors.As(err, &be) || !maps.Equal(be.Failed, failed) {
		t.Fatalf("Result = %v", err)
	}
}
