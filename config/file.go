package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// FileName is the config file's name inside the dcc directory.
const FileName = "config.toml"

// fileValues is what the config file may hold: one field per key. The decoder
// is strict (a key not listed here is an error); each value's type is checked
// afterwards so that the message names the key and line in dcc's words.
type fileValues struct {
	MaxSize           any `toml:"max_size"`
	IdleTimeout       any `toml:"idle_timeout"`
	DirectMode        any `toml:"direct_mode"`
	DependMode        any `toml:"depend_mode"`
	BypassDriver      any `toml:"bypass_driver"`
	Disable           any `toml:"disable"`
	LogLevel          any `toml:"log_level"`
	Remote            any `toml:"remote"`
	Token             any `toml:"token"`
	ConnectTimeout    any `toml:"connect_timeout"`
	SendTimeout       any `toml:"send_timeout"`
	RecvTimeout       any `toml:"recv_timeout"`
	LivenessTimeout   any `toml:"liveness_timeout"`
	LocalJobs         any `toml:"local_jobs"`
	LocalThreshold    any `toml:"local_threshold"`
	RerunRemoteErrors any `toml:"rerun_remote_errors"`
	ShipToolchains    any `toml:"ship_toolchains"`
	RemoteSources     any `toml:"remote_sources"`
	RemoteStorage     any `toml:"remote_storage"`
	RemoteStorageKey  any `toml:"remote_storage_key"`
	BaseDir           any `toml:"base_dir"`
	// Hosts is the [[hosts]] array of tables, checked by parseHosts.
	Hosts any `toml:"hosts"`
}

// byKey returns the decoded values by key name; keys absent from the file are nil.
func (f *fileValues) byKey() map[string]any {
	return map[string]any{
		"max_size": f.MaxSize, "idle_timeout": f.IdleTimeout, "direct_mode": f.DirectMode,
		"depend_mode": f.DependMode, "bypass_driver": f.BypassDriver, "disable": f.Disable, "log_level": f.LogLevel,
		"remote": f.Remote, "token": f.Token, "connect_timeout": f.ConnectTimeout,
		"send_timeout": f.SendTimeout, "recv_timeout": f.RecvTimeout,
		"liveness_timeout": f.LivenessTimeout, "local_jobs": f.LocalJobs,
		"local_threshold": f.LocalThreshold, "rerun_remote_errors": f.RerunRemoteErrors, "ship_toolchains": f.ShipToolchains,
		"remote_sources": f.RemoteSources, "remote_storage": f.RemoteStorage,
		"remote_storage_key": f.RemoteStorageKey, "base_dir": f.BaseDir,
	}
}

// document is a parsed config file.
type document struct {
	path string
	data []byte
	// values maps each key present in the file to its decoded TOML value.
	values map[string]any
	// exprs maps each top-level key present to its "key = value"
	// expression's position.
	exprs map[string]exprPos
	// hosts is the file's hosts value (nil when absent), hostPos where each
	// of its entries and their keys are.
	hosts   any
	hostPos []hostPos
	// hostsLine is the line where the file first names hosts.
	hostsLine int
	// tablesAt is the offset of the line holding the first table header
	// ("[[hosts]]"), where top-level keys end; -1 when there is none.
	tablesAt int
	// topEnd is the offset just past the line of the last top-level
	// "key = value" before the first table (0 when there is none).
	topEnd int
}

// hostPos is where one hosts entry is: the line of its "[[hosts]]" header
// (or of the "hosts = [...]" expression) and the line of each of its keys.
type hostPos struct {
	line int
	keys map[string]int
}

// exprPos is where one top-level "key = value" expression sits in the file.
type exprPos struct {
	line       int // 1-based
	start, end int // byte offsets of the expression, without its comment or newline
}

// readDocument reads and parses the file at path. A missing file is an empty
// document.
func readDocument(path string) (*document, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &document{path: path, values: map[string]any{}, exprs: map[string]exprPos{}, tablesAt: -1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	return parseDocument(path, data)
}

// parseDocument decodes data strictly and records where each key is.
func parseDocument(path string, data []byte) (*document, error) {
	var fv fileValues
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&fv); err != nil {
		return nil, decodeError(path, err)
	}
	doc := &document{path: path, data: data, values: map[string]any{}, exprs: map[string]exprPos{},
		hosts: fv.Hosts, tablesAt: -1}
	for name, v := range fv.byKey() {
		if v != nil {
			doc.values[name] = v
		}
	}
	// The decoder accepted the document, so it holds top-level
	// "known_key = value" expressions, comments, and hosts tables: find
	// where each is.
	p := unstable.Parser{}
	p.Reset(data)
	inHosts := false // the expressions belong to a [[hosts]] table
	for p.NextExpression() {
		e := p.Expression()
		it := e.Key()
		if !it.Next() {
			continue
		}
		name := it.Node().Data
		keyShape := p.Shape(it.Node().Raw)
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			if string(name) == "hosts" && doc.hostsLine == 0 {
				doc.hostsLine = keyShape.Start.Line
			}
			if doc.tablesAt < 0 {
				doc.tablesAt = bytes.LastIndexByte(data[:keyShape.Start.Offset], '\n') + 1
			}
			inHosts = e.Kind == unstable.ArrayTable && string(name) == "hosts" && it.IsLast()
			if inHosts {
				doc.hostPos = append(doc.hostPos, hostPos{line: keyShape.Start.Line, keys: map[string]int{}})
			}
		case unstable.KeyValue:
			switch {
			case doc.tablesAt >= 0 && inHosts:
				doc.hostPos[len(doc.hostPos)-1].keys[string(name)] = keyShape.Start.Line
			case doc.tablesAt >= 0:
			case string(name) == "hosts":
				// hosts = [{...}, ...]: every entry is on this line.
				doc.hostsLine = keyShape.Start.Line
				for range hostCount(fv.Hosts) {
					doc.hostPos = append(doc.hostPos, hostPos{line: keyShape.Start.Line})
				}
			default:
				shape := p.Shape(e.Raw)
				doc.exprs[string(name)] = exprPos{
					line: shape.Start.Line, start: shape.Start.Offset, end: shape.End.Offset,
				}
				doc.topEnd = len(data)
				if nl := bytes.IndexByte(data[shape.End.Offset:], '\n'); nl >= 0 {
					doc.topEnd = shape.End.Offset + nl + 1
				}
			}
		}
	}
	if err := p.Error(); err != nil {
		return nil, &Error{Where: path, Kind: ErrSyntax, Err: fmt.Errorf("not valid TOML: %w", err)}
	}
	return doc, nil
}

// decodeError turns the TOML decoder's error into a one-line *Error naming
// the file, the line and, when there is one, the key.
func decodeError(path string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		// Report the first unknown key; fixing it shows the next.
		de := &strict.Errors[0]
		line, _ := de.Position()
		return &Error{
			Where: path + ":" + strconv.Itoa(line), Kind: ErrUnknownKey,
			Err: fmt.Errorf("unknown key %q (known: %s)", strings.Join(de.Key(), "."), strings.Join(Keys(), ", ")),
		}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		return &Error{
			Where: path + ":" + strconv.Itoa(line), Kind: ErrSyntax,
			Err: fmt.Errorf("not valid TOML: %s", strings.TrimPrefix(de.Error(), "toml: ")),
		}
	}
	return &Error{Where: path, Kind: ErrSyntax, Err: fmt.Errorf("not valid TOML: %w", err)}
}

// text returns the text form of the file's value for key k, checking its TOML type.
func (d *document) text(k keyDef) (string, bool, error) {
	v, ok := d.values[k.name]
	if !ok {
		return "", false, nil
	}
	switch x := v.(type) {
	case string:
		if k.typ == tomlString || k.typ == tomlStringOrSize {
			return x, true, nil
		}
	case int64:
		if k.typ == tomlStringOrSize {
			return strconv.FormatInt(x, 10), true, nil
		}
	case bool:
		if k.typ == tomlBool {
			return strconv.FormatBool(x), true, nil
		}
	}
	want := map[tomlType]string{
		tomlString:       "a string",
		tomlStringOrSize: `a string such as "5G" or an integer number of bytes`,
		tomlBool:         "true or false",
	}[k.typ]
	return "", true, d.errorAt(k.name, fmt.Errorf("want %s, not %s", want, tomlTypeName(v)))
}

// errorAt reports an invalid value for key, at its line.
func (d *document) errorAt(key string, err error) error {
	return &Error{Where: d.path + ":" + strconv.Itoa(d.exprs[key].line), Key: key, Kind: ErrInvalid, Err: err}
}

// tomlTypeName names the TOML type of a decoded value.
func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return "a date or time"
	}
}
