package local

// sysRenameat2 is the renameat2 system call number on linux/riscv64.
const sysRenameat2 = 276
