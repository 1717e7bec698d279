//go:build linux && (amd64 || arm64 || 386 || arm || riscv64 || loong64 || s390x)

package local

import (
	"syscall"
	"unsafe"
)

const (
	// renameNoReplaceFlag is RENAME_NOREPLACE from <linux/fs.h>.
	renameNoReplaceFlag = 1
	// atFDCWD is AT_FDCWD from <fcntl.h>: paths relative to the working directory.
	atFDCWD = -100
)

// renameat2NoReplace is renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath,
// RENAME_NOREPLACE): an atomic rename that fails with EEXIST instead of
// replacing newpath. The standard library's syscall package has no wrapper
// (golang.org/x/sys/unix has, but we keep to the standard library).
func renameat2NoReplace(oldpath, newpath string) error {
	oldp, err := syscall.BytePtrFromString(oldpath)
	if err != nil {
		return err
	}
	newp, err := syscall.BytePtrFromString(newpath)
	if err != nil {
		return err
	}
	fd := atFDCWD
	_, _, errno := syscall.Syscall6(sysRenameat2,
		uintptr(fd), uintptr(unsafe.Pointer(oldp)),
		uintptr(fd), uintptr(unsafe.Pointer(newp)),
		renameNoReplaceFlag, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
