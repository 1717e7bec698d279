package emulatorkit

import (
	"bytes"
	"sync"
)

// maxPooledBuffer: larger buffers are dropped instead of pooled.
const maxPooledBuffer = 64 << 20

// BufferPool recycles response buffers. The zero value is ready; it is safe
// for concurrent use.
type BufferPool struct{ pool sync.Pool }

// Get returns an empty buffer.
func (p *BufferPool) Get() *bytes.Buffer {
	if b, ok := p.pool.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// Put returns b to the pool; nil and buffers over 64 MiB are dropped.
func (p *BufferPool) Put(b *bytes.Buffer) {
	if b == nil || b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	p.pool.Put(b)
}
