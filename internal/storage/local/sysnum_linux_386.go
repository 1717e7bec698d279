package local

// sysRenameat2 is the renameat2 system call number on linux/386.
const sysRenameat2 = 353
