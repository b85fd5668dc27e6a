package signature

import (
	"crypto/sha256"
	"hash"
	"sync"
)

// mac computes HMAC-SHA256 (RFC 2104) with a reusable SHA-256 state and
// scratch buffers, so that signing allocates nothing per secret. It gives
// the same results as crypto/hmac with sha256.New: mac_test.go checks them
// against each other for keys of every length from 0 to 200 bytes, and the
// fuzz target checks every freshly signed message.
//
// A mac is not safe for concurrent use; take one from getMAC and give it
// back with free.
type mac struct {
	h   hash.Hash
	key [sha256.BlockSize]byte // the key, zero-padded (or its hash when longer than a block)
	pad [sha256.BlockSize]byte // key XOR ipad or opad
	sum [sha256.Size]byte      // the last result

	keyBuf []byte // scratch: a decoded Standard Webhooks key or a string key
	msgBuf []byte // scratch: the signed prefix of a message ("id.ts." or "ts.")
	out    []byte // scratch: the header value being built
}

var macPool = sync.Pool{New: func() any { return &mac{h: sha256.New()} }}

// getMAC returns an unkeyed mac from the pool.
func getMAC() *mac { return macPool.Get().(*mac) }

// free wipes the key material and returns m to the pool.
func (m *mac) free() {
	clear(m.key[:])
	clear(m.pad[:])
	clear(m.sum[:])
	clear(m.keyBuf[:cap(m.keyBuf)])
	m.keyBuf = m.keyBuf[:0]
	m.h.Reset()
	if cap(m.out) > 64<<10 { // do not pin huge buffers in the pool
		m.out = nil
	}
	macPool.Put(m)
}

// reset keys m with key and starts a new message.
func (m *mac) reset(key []byte) {
	clear(m.key[:])
	if len(key) > sha256.BlockSize {
		m.h.Reset()
		m.h.Write(key)
		m.h.Sum(m.key[:0])
	} else {
		copy(m.key[:], key)
	}
	for i, b := range m.key {
		m.pad[i] = b ^ 0x36
	}
	m.h.Reset()
	m.h.Write(m.pad[:])
}

// resetString keys m with the bytes of key and starts a new message.
func (m *mac) resetString(key string) {
	m.keyBuf = append(m.keyBuf[:0], key...)
	m.reset(m.keyBuf)
}

// write adds p to the message.
func (m *mac) write(p []byte) { m.h.Write(p) }

// writeString adds s to the message.
func (m *mac) writeString(s string) {
	m.msgBuf = append(m.msgBuf[:0], s...)
	m.h.Write(m.msgBuf)
}

// finish returns the HMAC of the message. The result aliases m and is
// valid until the next call on m.
func (m *mac) finish() []byte {
	inner := m.h.Sum(m.sum[:0])
	for i, b := range m.key {
		m.pad[i] = b ^ 0x5c
	}
	m.h.Reset()
	m.h.Write(m.pad[:])
	m.h.Write(inner)
	return m.h.Sum(m.sum[:0])
}
