package local

// sysRenameat2 is the renameat2 system call number on linux/arm.
const sysRenameat2 = 382
