package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A frame is one record on disk:
//
//	length   uint32 LE  payload length in bytes
//	crc      uint32 LE  CRC-32C of payload followed by seq (8 bytes LE)
//	seq      uint64 LE  the record's sequence number
//	payload  length bytes
const headerSize = 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is matched by errors that report a frame that failed its checks.
var ErrCorrupt = errors.New("journal: corrupt record")

// frameCRC is the frame checksum: CRC-32C over the payload, then the frame's
// little-endian seq bytes (seqBytes, taken from the frame itself so that
// nothing is allocated).
func frameCRC(payloadCRC uint32, seqBytes []byte) uint32 {
	return crc32.Update(payloadCRC, castagnoli, seqBytes)
}

// appendFrame appends the frame of payload (whose CRC-32C is pcrc) at seq.
func appendFrame(dst []byte, seq uint64, payload []byte, pcrc uint32) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, 0) // the checksum, once seq is in place
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	binary.LittleEndian.PutUint32(dst[start+4:], frameCRC(pcrc, dst[start+8:start+16]))
	return append(dst, payload...)
}

// parseFrame checks the frame at the start of b. It returns the payload and
// the frame's total size. need > 0 means b holds an incomplete frame that
// needs that many bytes in all; err reports a frame that can never be valid.
func parseFrame(b []byte, wantSeq uint64, maxRecord int) (payload []byte, size int, need int, err error) {
	if len(b) < headerSize {
		return nil, 0, headerSize, nil
	}
	n := binary.LittleEndian.Uint32(b[0:4])
	if int64(n) > int64(maxRecord) {
		return nil, 0, 0, fmt.Errorf("%w: length %d exceeds the limit %d", ErrCorrupt, n, maxRecord)
	}
	size = headerSize + int(n)
	if len(b) < size {
		return nil, 0, size, nil
	}
	seq := binary.LittleEndian.Uint64(b[8:16])
	payload = b[headerSize:size:size]
	if got, want := frameCRC(crc32.Checksum(payload, castagnoli), b[8:16]), binary.LittleEndian.Uint32(b[4:8]); got != want {
		return nil, 0, 0, fmt.Errorf("%w: checksum mismatch at seq %d", ErrCorrupt, wantSeq)
	}
	if seq != wantSeq {
		return nil, 0, 0, fmt.Errorf("%w: seq %d where %d was expected", ErrCorrupt, seq, wantSeq)
	}
	return payload, size, 0, nil
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
