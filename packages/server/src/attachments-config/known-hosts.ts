/**
 * Host keys of common git hosts, put in the sandbox's ~/.ssh/known_hosts with its SSH keys so
 * `git clone git@github.com:…` works without a trust-on-first-use prompt.
 *
 * These are the hosts' published Ed25519 keys; each was checked against its published
 * SHA256 fingerprint (`ssh-keygen -lf`):
 *   github.com     SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU
 *   gitlab.com     SHA256:eUXGGm1YGsMAS7vkcx6JOJdOGHPem5gQp4taiCfCLB8
 *   bitbucket.org  SHA256:ybgmFkzwOSotHTHLJgHO0QN8L0xErw6vd0VhFA9m3SM
 * tangled.org / tangled.sh are left out on purpose: we could not verify their key from here,
 * and a wrong pinned key is worse than a prompt. Add them once verified.
 */
export const KNOWN_HOSTS: readonly string[] = [
  'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  'gitlab.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf',
  'bitbucket.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIazEu89wgQZ4bqs3d63QSMzYVa0MuJ2e2gKTKqu+UUO',
];
