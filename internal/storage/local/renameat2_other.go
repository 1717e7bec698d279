//go:build !(linux && (amd64 || arm64 || 386 || arm || riscv64 || loong64 || s390x))

package local

// renameat2NoReplace is not available on this platform; renameNoReplace
// falls back to link+remove (files) or check+rename (directories).
func renameat2NoReplace(oldpath, newpath string) error { return errNoRenameat2 }
