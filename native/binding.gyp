{
  "targets": [
    {
      "target_name": "usage_scan",
      "sources": ["usage-scan.c"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra"]
    }
  ]
}
