package fakeaws

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"unicode/utf8"
)

// validateMessage checks one message the way SQS does before accepting it.
func validateMessage(q *sqsQueue, in *sendInput) *apiError {
	if in.MessageBody == "" {
		return badRequest("MissingParameter", "MissingParameter", "The request must contain the parameter MessageBody.")
	}
	if !validBody(in.MessageBody) {
		return badRequest("InvalidMessageContents", "InvalidMessageContents", "Invalid binary character in the message body.")
	}
	if n := len(in.MessageAttributes); n > 10 {
		return badRequest("InvalidParameterValueException", "InvalidParameterValue",
			"Number of message attributes [%d] exceeds the allowed maximum [10].", n)
	}
	for name, a := range in.MessageAttributes {
		if aerr := validateAttribute(name, a); aerr != nil {
			return aerr
		}
	}
	if size := messageSize(in); size > q.maxSize {
		return badRequest("InvalidParameterValueException", "InvalidParameterValue",
			"One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.maxSize)
	}
	if q.fifo {
		if in.MessageGroupId == "" {
			return badRequest("MissingParameter", "MissingParameter", "The request must contain the parameter MessageGroupId.")
		}
		if !validFIFOID(in.MessageGroupId) {
			return badRequest("InvalidParameterValueException", "InvalidParameterValue", "Value %q for parameter MessageGroupId is invalid.", in.MessageGroupId)
		}
		if in.MessageDeduplicationId == "" && !q.contentDedup {
			return badRequest("InvalidParameterValueException", "InvalidParameterValue",
				"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
		if in.MessageDeduplicationId != "" && !validFIFOID(in.MessageDeduplicationId) {
			return badRequest("InvalidParameterValueException", "InvalidParameterValue", "Value %q for parameter MessageDeduplicationId is invalid.", in.MessageDeduplicationId)
		}
		if in.DelaySeconds != nil {
			return badRequest("InvalidParameterValueException", "InvalidParameterValue",
				"Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *in.DelaySeconds)
		}
	} else if in.MessageDeduplicationId != "" {
		return badRequest("InvalidParameterValueException", "InvalidParameterValue",
			"The request include parameter MessageDeduplicationId that is not valid for this queue type")
	}
	return nil
}

// validBody reports whether s holds only the characters SQS allows:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validBody(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

func validateAttribute(name string, a MessageAttribute) *apiError {
	bad := func(format string, args ...any) *apiError {
		return badRequest("InvalidParameterValueException", "InvalidParameterValue", format, args...)
	}
	lower := strings.ToLower(name)
	switch {
	case name == "" || len(name) > 256:
		return bad("Message attribute name must be 1 to 256 characters long.")
	case strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon."):
		return bad("Message attribute name %q uses a reserved prefix.", name)
	case name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, ".."):
		return bad("Message attribute name %q cannot start or end with a period or contain successive periods.", name)
	case strings.IndexFunc(name, func(r rune) bool {
		return !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0:
		return bad("Message attribute name %q can only contain alphanumeric characters, '_', '-' and '.'.", name)
	}
	base, _, _ := strings.Cut(a.DataType, ".")
	if len(a.DataType) > 256 || !slices.Contains([]string{"String", "Number", "Binary"}, base) {
		return bad("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
	}
	if len(a.StringListValues) > 0 || len(a.BinaryListValues) > 0 {
		return bad("Message attribute list values in SendMessage operation are not supported.")
	}
	if base == "Binary" {
		if len(a.BinaryValue) == 0 {
			return bad("Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
		}
		return nil
	}
	if a.StringValue == nil || *a.StringValue == "" {
		return bad("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
	}
	if !validBody(*a.StringValue) {
		return bad("Message (user) attribute '%s' contains characters outside the allowed set.", name)
	}
	return nil
}

// messageSize is what SQS counts against the message size limit: the body
// plus every attribute's name, data type and value.
func messageSize(in *sendInput) int {
	n := len(in.MessageBody)
	for name, a := range in.MessageAttributes {
		n += len(name) + len(a.DataType) + len(a.BinaryValue)
		if a.StringValue != nil {
			n += len(*a.StringValue)
		}
	}
	return n
}

func validBatchID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0
}

// validFIFOID checks a MessageGroupId or MessageDeduplicationId: 1 to 128
// characters, each alphanumeric or ASCII punctuation.
func validFIFOID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < 0x21 || c > 0x7e { // printable ASCII without space: letters, digits, punctuation
			return false
		}
	}
	return true
}

// attributesMD5 computes MD5OfMessageAttributes as SQS does: attributes
// sorted by name, each encoded as length-prefixed name, length-prefixed data
// type, a transport byte (1 string, 2 binary) and the length-prefixed value.
func attributesMD5(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	h := md5.New()
	var l [4]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint32(l[:], uint32(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			var v string
			if a.StringValue != nil {
				v = *a.StringValue
			}
			put([]byte(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}
