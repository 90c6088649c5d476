package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Frames. Every record is one frame. Version 2, which this package writes:
//
//	offset  size  field
//	0       4     magic    the bytes FE 45 47 FF
//	4       4     length   uint32 LE, payload length in bytes
//	8       4     crc      uint32 LE, CRC-32C (Castagnoli) of payload followed by the 8 seq bytes
//	12      8     seq      uint64 LE, the record's sequence number
//	20      n     payload  length bytes
//
// The magic lets a reader find the next frame after a damaged one: it scans
// for the magic and takes the first candidate whose checksum holds. FE and
// FF never occur in UTF-8 text, and as a little-endian length the magic
// reads as 4,282,861,054, above any allowed record size, so a version-1
// frame never starts with it.
//
// Version 1, written by earlier releases and still read, has no magic:
//
//	0       4     length   uint32 LE
//	4       4     crc      as above
//	8       8     seq      uint64 LE
//	16      n     payload
//
// A segment holds frames of one version only: version 1 when it starts with
// an intact version-1 frame, else version 2 (see versionOf). Damage in a version-1 segment loses the
// rest of that segment, since nothing marks where the next frame starts.
const (
	headerSize   = 20 // version 2
	v1HeaderSize = 16
)

// frameMagic starts every version-2 frame.
var frameMagic = [4]byte{0xFE, 0x45, 0x47, 0xFF}

// maxRecordLimit bounds Options.MaxRecordSize, so that no length a frame
// may carry reads as the magic.
const maxRecordLimit = 1 << 30

// frameVersion is a segment's frame format.
type frameVersion uint8

const (
	frameV2 frameVersion = iota // the zero value: what new segments hold
	frameV1
)

// versionOf tells the frame version of a segment from its first bytes: a
// segment that starts with an intact version-1 frame is version 1; any other
// (empty, starting with the magic, or with a damaged first frame) is version
// 2, whose reader resynchronises on the next magic.
func versionOf(first []byte, maxRecord int) frameVersion {
	if len(first) < v1HeaderSize || bytes.Equal(first[:4], frameMagic[:]) {
		return frameV2
	}
	if _, _, _, need, err := decodeFrame(first, frameV1, maxRecord); err == nil && need == 0 {
		return frameV1
	}
	return frameV2
}

// readVersion tells the frame version of the segment in f.
func readVersion(f io.ReaderAt, maxRecord int) (frameVersion, error) {
	head := make([]byte, v1HeaderSize)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if n < v1HeaderSize || bytes.Equal(head[:4], frameMagic[:]) {
		return frameV2, nil
	}
	size := int64(binary.LittleEndian.Uint32(head))
	if size > int64(maxRecord) {
		return frameV2, nil
	}
	frame := make([]byte, v1HeaderSize+size)
	n, err = f.ReadAt(frame, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	return versionOf(frame[:n], maxRecord), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is matched by errors that report a frame that failed its checks.
var ErrCorrupt = errors.New("journal: corrupt record")

// frameCRC is the frame checksum: CRC-32C over the payload, then the frame's
// little-endian seq bytes (seqBytes, taken from the frame itself so that
// nothing is allocated).
func frameCRC(payloadCRC uint32, seqBytes []byte) uint32 {
	return crc32.Update(payloadCRC, castagnoli, seqBytes)
}

// appendFrame appends the version-2 frame of payload (whose CRC-32C is pcrc)
// at seq.
func appendFrame(dst []byte, seq uint64, payload []byte, pcrc uint32) []byte {
	start := len(dst)
	dst = append(dst, frameMagic[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, 0) // the checksum, once seq is in place
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	binary.LittleEndian.PutUint32(dst[start+8:], frameCRC(pcrc, dst[start+12:start+20]))
	return append(dst, payload...)
}

// decodeFrame checks the frame of version v at the start of b, whatever its
// seq. It returns the seq, the payload and the frame's total size. need > 0
// means b holds the start of a frame that needs that many bytes in all;
// err reports bytes that are not a valid frame.
func decodeFrame(b []byte, v frameVersion, maxRecord int) (seq uint64, payload []byte, size int, need int, err error) {
	hs, lo := headerSize, 4
	if v == frameV1 {
		hs, lo = v1HeaderSize, 0
	}
	if len(b) < hs {
		if v == frameV2 && !bytes.HasPrefix(frameMagic[:], b[:min(len(b), 4)]) {
			return 0, nil, 0, 0, fmt.Errorf("%w: no frame magic", ErrCorrupt)
		}
		return 0, nil, 0, hs, nil
	}
	if v == frameV2 && !bytes.Equal(b[:4], frameMagic[:]) {
		return 0, nil, 0, 0, fmt.Errorf("%w: no frame magic", ErrCorrupt)
	}
	n := binary.LittleEndian.Uint32(b[lo : lo+4])
	if int64(n) > int64(maxRecord) {
		return 0, nil, 0, 0, fmt.Errorf("%w: length %d exceeds the limit %d", ErrCorrupt, n, maxRecord)
	}
	size = hs + int(n)
	if len(b) < size {
		return 0, nil, 0, size, nil
	}
	seqBytes := b[lo+8 : lo+16]
	seq = binary.LittleEndian.Uint64(seqBytes)
	payload = b[hs:size:size]
	if got, want := frameCRC(crc32.Checksum(payload, castagnoli), seqBytes), binary.LittleEndian.Uint32(b[lo+4:lo+8]); got != want {
		return 0, nil, 0, 0, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return seq, payload, size, 0, nil
}

// parseFrame checks the frame of version v at the start of b, which must
// hold seq wantSeq. It returns the payload and the frame's total size.
// need > 0 means b holds an incomplete frame that needs that many bytes in
// all; err reports a frame that can never be valid.
func parseFrame(b []byte, wantSeq uint64, maxRecord int, v frameVersion) (payload []byte, size int, need int, err error) {
	seq, payload, size, need, err := decodeFrame(b, v, maxRecord)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w at seq %d", err, wantSeq)
	}
	if need > 0 {
		return nil, 0, need, nil
	}
	if seq != wantSeq {
		return nil, 0, 0, fmt.Errorf("%w: seq %d where %d was expected", ErrCorrupt, seq, wantSeq)
	}
	return payload, size, 0, nil
}

// resync finds the first valid version-2 frame in b at or after from whose
// seq is in [minSeq, maxSeq] (maxSeq 0: no upper bound). It returns the
// frame's offset in b and its seq.
func resync(b []byte, from int, minSeq, maxSeq uint64, maxRecord int) (off int, seq uint64, ok bool) {
	for i := from; i < len(b); {
		k := bytes.Index(b[i:], frameMagic[:])
		if k < 0 {
			return 0, 0, false
		}
		at := i + k
		s, _, _, need, err := decodeFrame(b[at:], frameV2, maxRecord)
		if err == nil && need == 0 && s >= minSeq && (maxSeq == 0 || s <= maxSeq) {
			return at, s, true
		}
		i = at + 1
	}
	return 0, 0, false
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
