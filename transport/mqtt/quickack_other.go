//go:build !linux

package mqtt

func (c *quickAckConn) quickAck() {}
