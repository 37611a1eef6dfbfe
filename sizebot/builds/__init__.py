"""Builds: git worktrees, go build strategies and post-steps, main-package discovery, import chains."""
