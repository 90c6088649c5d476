package gcplogging

import (
	"bytes"
	"encoding/json"
	"reflect"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

func payloadJSON(s *structpb.Struct) ([]byte, error) { return protojson.Marshal(s) }

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(bytes.TrimSpace(a), &x) != nil || json.Unmarshal(bytes.TrimSpace(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func metaEqual(a, b []byte) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return jsonEqual(a, b)
}
