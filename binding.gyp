{
  "targets": [
    {
      "target_name": "sysbox",
      "sources": [
        "src-c/addon.c",
        "src-c/warm-addon.c",
        "src-c/common/warm.c",
        "src-c/treehash.c"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    },
    {
      "target_name": "sysbox-runc",
      "type": "executable",
      "sources": ["src-c/launcher.c", "src-c/relay.c", "src-c/common/warm.c"],
      "defines": ["SYSBOX_NODE=\"<!(node -p process.execPath)\""],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "sysbox-init",
      "type": "executable",
      "sources": [
        "src-c/init/main.c",
        "src-c/init/plan.c",
        "src-c/init/rootfs.c",
        "src-c/init/process.c"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lseccomp"]
    },
    {
      "target_name": "sysbox-fs",
      "type": "executable",
      "sources": ["src-c/fs/main.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2",
                 "<!@(pkg-config --cflags fuse3)"],
      "libraries": ["<!@(pkg-config --libs fuse3)"]
    }
  ]
}
