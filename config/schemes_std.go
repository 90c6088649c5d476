package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

func addStd(r Registry) {
	r["null"] = Scheme{
		Validate: func(raw string) error { _, err := url.Parse(raw); return err },
		New: func(name, _ string, _ *slog.Logger) (eventgate.Transport, error) {
			return transport.NewNull(transport.WithName(name)), nil
		},
	}
	r["log"] = Scheme{
		Validate: func(raw string) error { _, err := logOptions(raw); return err },
		New: func(name, raw string, log *slog.Logger) (eventgate.Transport, error) {
			opts, err := logOptions(raw)
			if err != nil {
				return nil, err
			}
			if log == nil {
				log = slog.New(slog.DiscardHandler)
			}
			return transport.NewLog(log, append(opts, transport.WithName(name))...), nil
		},
	}
	r["file"] = Scheme{
		Validate: func(raw string) error { _, _, err := fileOptions(raw); return err },
		New: func(name, raw string, _ *slog.Logger) (eventgate.Transport, error) {
			path, opts, err := fileOptions(raw)
			if err != nil {
				return nil, err
			}
			return transport.NewFile(path, append(opts, transport.WithName(name))...)
		},
	}
}

// logOptions reads log://?level=debug|info|warn|error&data=true&meta=true&message=…
func logOptions(raw string) ([]transport.LogOption, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	var opts []transport.LogOption
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "level":
			var l slog.Level
			if err := l.UnmarshalText([]byte(v)); err != nil {
				return nil, fmt.Errorf("level: %w", err)
			}
			opts = append(opts, transport.WithLogLevel(l))
		case "data", "meta":
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not true or false", k, v)
			}
			if k == "data" {
				opts = append(opts, transport.WithLogData(on))
			} else {
				opts = append(opts, transport.WithLogMeta(on))
			}
		case "message":
			opts = append(opts, transport.WithLogMessage(v))
		default:
			return nil, fmt.Errorf("unknown parameter %q (level, data, meta, message)", k)
		}
	}
	return opts, nil
}

// fileOptions reads file:///abs/path.jsonl or file://./rel/path.jsonl with
// ?sync=write|buffered|fsync&max_size=<size>&max_backups=<n>.
func fileOptions(raw string) (string, []transport.FileOption, error) {
	rest := raw[strings.Index(raw, "://")+3:]
	pathPart, query, _ := strings.Cut(rest, "?")
	path, err := url.PathUnescape(pathPart)
	if err != nil {
		return "", nil, err
	}
	if path == "" {
		return "", nil, errors.New("file: no path (file:///abs/path.jsonl or file://./rel/path.jsonl)")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, err
	}
	var opts []transport.FileOption
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch k {
		case "sync":
			switch v {
			case "write":
				opts = append(opts, transport.WithFileSync(transport.FileSyncWrite))
			case "buffered":
				opts = append(opts, transport.WithFileSync(transport.FileSyncBuffered))
			case "fsync":
				opts = append(opts, transport.WithFileSync(transport.FileSyncFsync))
			default:
				return "", nil, fmt.Errorf("sync: %q is not write, buffered or fsync", v)
			}
		case "max_size":
			n, err := parseSize(v)
			if err != nil {
				return "", nil, fmt.Errorf("max_size: %w", err)
			}
			opts = append(opts, transport.WithFileMaxSize(n))
		case "max_backups":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return "", nil, fmt.Errorf("max_backups: %q is not a count", v)
			}
			opts = append(opts, transport.WithFileMaxBackups(n))
		default:
			return "", nil, fmt.Errorf("unknown parameter %q (sync, max_size, max_backups)", k)
		}
	}
	return path, opts, nil
}
