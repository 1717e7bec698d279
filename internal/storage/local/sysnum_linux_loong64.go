package local

// sysRenameat2 is the renameat2 system call number on linux/loong64.
const sysRenameat2 = 276
