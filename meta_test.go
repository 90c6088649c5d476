package eventgate

import (
	"maps"
	"testing"
)

func TestFlattenMeta(t *testing.T) {
	meta := []byte(`{"agent":"support", "temperature":0.2,"tags":[ "a", "b" ],"ok":true,"none":null,"nested":{"k": "v"},"esc\u0041":"x\ny"}`)
	got := map[string]string{}
	var order []string
	if err := FlattenMeta(meta, func(k, v string) { got[k] = v; order = append(order, k) }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"agent": "support", "temperature": "0.2", "tags": `["a","b"]`, "ok": "true",
		"none": "null", "nested": `{"k":"v"}`, "escA": "x\ny"}
	if !maps.Equal(got, want) || order[0] != "agent" || order[len(order)-1] != "escA" {
		t.Fatalf("flattened %v (order %v), want %v", got, order, want)
	}
	for _, bad := range []string{`[1]`, `"s"`, `{"a":}`, `{"a":1`} {
		if err := FlattenMeta([]byte(bad), func(k, v string) { t.Errorf("%s: called with %q", bad, k) }); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	ev := &Event{Meta: meta}
	if v, ok := ev.MetaString("agent"); !ok || v != "support" {
		t.Errorf("MetaString(agent) = %q, %v", v, ok)
	}
	if _, ok := ev.MetaString("temperature"); ok {
		t.Error("MetaString of a number reports a string")
	}
	m, err := NewMeta(map[string]any{"t": 0.2, "tags": []string{"a", "b"}})
	if err != nil || string(m) != `{"t":0.2,"tags":["a","b"]}` {
		t.Errorf("NewMeta = %s, %v", m, err)
	}
}
