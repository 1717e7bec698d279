package local

// sysRenameat2 is the renameat2 system call number on linux/s390x.
const sysRenameat2 = 347
