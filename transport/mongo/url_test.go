package mongo

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw  string
		want Config
	}{
		{
			"mongodb://127.0.0.1:27017/?database=eventgate&collection=events&timeout=5s",
			Config{URI: "mongodb://127.0.0.1:27017/", Database: "eventgate", Collection: "events", Timeout: 5 * time.Second},
		},
		{
			"mongodb://127.0.0.1:27017",
			Config{URI: "mongodb://127.0.0.1:27017"},
		},
		{
			// Driver options pass through in their order; ours are removed.
			"mongodb://u:p%40ss@h1:27017,h2:27018/admin?replicaSet=rs0&collection=ev&w=majority&name=audit&max_document_size=1024&create_index=true",
			Config{URI: "mongodb://u:p%40ss@h1:27017,h2:27018/admin?replicaSet=rs0&w=majority", Database: "admin",
				Collection: "ev", Name: "audit", MaxDocumentSize: 1024, CreateIndex: true},
		},
		{
			// The database parameter wins over the path (which stays the auth database).
			"mongodb://h/authdb?database=logs",
			Config{URI: "mongodb://h/authdb", Database: "logs"},
		},
		{
			// A "/" is added between hosts and kept options.
			"mongodb://h:1?database=d&appName=x",
			Config{URI: "mongodb://h:1/?appName=x", Database: "d"},
		},
		{
			"mongodb://h/?timeout=0",
			Config{URI: "mongodb://h/", Timeout: -1},
		},
		{
			"mongodb+srv://cluster.example.com/?database=d",
			Config{URI: "mongodb+srv://cluster.example.com/", Database: "d"},
		},
	}
	for _, c := range cases {
		got, err := ParseURL(c.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.raw, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseURL(%q):\n got %+v\nwant %+v", c.raw, got, c.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	cases := []struct{ raw, wantErr string }{
		{"postgres://h/db", "scheme"},
		{"mongodb://h/?timeout=soon", "timeout"},
		{"mongodb://h/?max_document_size=-1", "max_document_size"},
		{"mongodb://h/?create_index=maybe", "create_index"},
		{"mongodb://h/?database=a.b", "database name"},
		{"mongodb://h/?database=" + strings.Repeat("d", 64), "database name"},
		{"mongodb://h/?collection=system.x", "reserved"},
		{"mongodb://h/?collection=a$b", "collection name"},
		{"mongodb://h/?connectTimeoutMS=abc", "URI"},
		{"mongodb://h/?database=%zz", "database"},
		{"mongodb://u:secret@h:99999/", "URI"},
	}
	for _, c := range cases {
		_, err := ParseURL(c.raw)
		if err == nil {
			t.Errorf("ParseURL(%q): got nil error, want one mentioning %q", c.raw, c.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseURL(%q): %v; want it to mention %q", c.raw, err, c.wantErr)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q): error shows the password: %v", c.raw, err)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := tr.cfg
	if c.URI != DefaultURI || c.Database != DefaultDatabase || c.Collection != DefaultCollection ||
		c.Name != DefaultName || c.Timeout != DefaultTimeout || c.MaxDocumentSize != DefaultMaxDocumentSize || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
	if tr.Name() != "mongo" {
		t.Errorf("Name() = %q", tr.Name())
	}
	if err := tr.Close(); err != nil { // never connected
		t.Errorf("Close: %v", err)
	}
}
