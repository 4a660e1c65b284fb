# pocketenv exec agent: runs INSIDE a sandbox, started by the runtime's exec right after
# boot, so it has exactly what every exec gets: the sandbox's namespaces (user ns included),
# cgroup (limits apply), seccomp filter, capability set and no_new_privs. Every command it
# starts inherits all of that from it. It listens on a unix socket in a directory the host
# bind-mounts in; only the host (and the sandbox itself, which gains nothing) can connect.
#
# Frames, both directions: 1 type byte, 4-byte big-endian length, payload.
#   host -> agent: R (request: N/a* strings cwd, argc, argv..., env...), I (stdin bytes),
#                  E (stdin EOF), K (kill the command's process tree)
#   agent -> host: P (command pid in the sandbox), O (stdout), F (stderr), then X (exit
#                  code, decimal) once the command exited AND its output pipes ended (or
#                  300 ms after its exit, when background processes keep them open); then close.
# perl-base only (Socket, Fcntl): Debian bases always have it.
use strict;
use warnings;
use Socket qw(AF_UNIX SOCK_STREAM pack_sockaddr_un);
# No POSIX module: it doubles the agent's memory. x86_64/aarch64-independent bits only:
use constant WNOHANG => 1;
use Config ();
my $SYS_SETSID = $Config::Config{archname} =~ /aarch64/ ? 157 : 112;
sub setsid_now { return syscall($SYS_SETSID); }
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);

my $path = shift @ARGV or die "usage: exec-agent.pl SOCKET [--in-place]\n";
# --in-place (gVisor): bind at the final path. gVisor's kernel may create a socket on the host
# dir but not rename one; the host empties the dir before it starts the agent there.
my $in_place = (shift(@ARGV) // '') eq '--in-place';
$0 = 'pocketenv-exec-agent';
my $tmp = $in_place ? $path : "$path.$$";
unlink $tmp unless $in_place;
socket(my $server, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!\n";
bind($server, pack_sockaddr_un($tmp)) or die "bind: $!\n";
chmod 0600, $tmp;
listen($server, 512) or die "listen: $!\n";
if (!$in_place) {
  rename($tmp, $path) or die "rename: $!\n"; # atomic: the host never sees a half-made socket
}
open(STDIN, '<', '/dev/null');
open(STDOUT, '>', '/dev/null');
open(STDERR, '>', '/dev/null');
$SIG{CHLD} = 'IGNORE'; # connection handlers are reaped by the kernel

while (1) {
  my $client;
  accept($client, $server) or next;
  my $pid = fork();
  if (!defined $pid) { close $client; next; }
  if ($pid == 0) {
    close $server;
    serve($client);
    exit_now(0);
  }
  close $client;
}

sub exit_now { CORE::exit(shift); }

sub nonblocking { my $fh = shift; fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK); }

sub send_frame {
  my ($sock, $type, $data) = @_;
  my $buf = $type . pack('N', length $data) . $data;
  while (length $buf) {
    my $n = syswrite($sock, $buf);
    if (!defined $n) { next if $!{EINTR}; return 0; }
    return 0 if $n == 0;
    substr($buf, 0, $n, '');
  }
  return 1;
}

# Kills every process of the command's session or process group, until none is left.
sub kill_tree {
  my $sid = shift;
  for my $round (1 .. 50) {
    my $found = 0;
    opendir(my $dh, '/proc') or return;
    for my $p (grep { /^\d+$/ } readdir $dh) {
      open(my $fh, '<', "/proc/$p/stat") or next;
      my $stat = <$fh>;
      close $fh;
      next unless defined $stat;
      my @f = split / /, substr($stat, rindex($stat, ')') + 2);
      if ($f[2] == $sid || $f[3] == $sid) { kill 'KILL', $p; $found++; }
    }
    closedir $dh;
    return if !$found;
    select(undef, undef, undef, 0.01);
  }
}

sub serve {
  my $sock = shift;
  $SIG{CHLD} = 'DEFAULT';
  $SIG{PIPE} = 'IGNORE';
  my $rbuf = '';
  my @frames;
  my $read_frames = sub {
    my $n;
    do { $n = sysread($sock, $rbuf, 65536, length $rbuf); } while (!defined $n && $!{EINTR});
    return 0 unless $n;
    while (length($rbuf) >= 5) {
      my $len = unpack('N', substr($rbuf, 1, 4));
      last if length($rbuf) < 5 + $len;
      push @frames, [substr($rbuf, 0, 1), substr($rbuf, 5, $len)];
      substr($rbuf, 0, 5 + $len, '');
    }
    return 1;
  };
  while (!@frames) { return unless $read_frames->(); }
  my ($type, $payload) = @{shift @frames};
  return unless $type eq 'R';
  my ($cwd, $argc, @rest) = unpack('(N/a*)*', $payload);
  my @argv = splice(@rest, 0, $argc);
  my @env = @rest;

  pipe(my $in_r, my $in_w) or return;
  pipe(my $out_r, my $out_w) or return;
  pipe(my $err_r, my $err_w) or return;
  my $child = fork();
  return unless defined $child;
  if ($child == 0) {
    setsid_now();
    $SIG{PIPE} = 'DEFAULT';
    open(STDIN, '<&', $in_r) or exit_now(126);
    open(STDOUT, '>&', $out_w) or exit_now(126);
    open(STDERR, '>&', $err_w) or exit_now(126);
    if (!chdir $cwd) { print STDERR "pocketenv: cannot enter $cwd: $!\n"; exit_now(126); }
    %ENV = ();
    for my $kv (@env) { my $i = index($kv, '='); $ENV{substr($kv, 0, $i)} = substr($kv, $i + 1) if $i > 0; }
    { no warnings 'exec'; exec { $argv[0] } @argv; }
    print STDERR "pocketenv: cannot run $argv[0]: $!\n";
    exit_now($!{ENOENT} ? 127 : 126);
  }
  close $in_r; close $out_w; close $err_w;
  nonblocking($_) for ($in_w, $out_r, $err_r);
  send_frame($sock, 'P', $child);

  my $chld = 0;
  $SIG{CHLD} = sub { $chld = 1 };
  my %open = (O => $out_r, F => $err_r);
  my $inbuf = '';
  my $in_eof = 0;
  my $exit;
  my $client_gone = 0;
  my $drain_deadline;
  my $handle = sub {
    for my $f (@frames) {
      my ($t, $d) = @$f;
      if ($t eq 'I') { $inbuf .= $d unless $in_eof; }
      elsif ($t eq 'E') { $in_eof = 1; }
      elsif ($t eq 'K') { kill_tree($child); }
    }
    @frames = ();
  };
  $handle->();
  while (1) {
    if (!defined $exit && ($chld || !%open)) {
      my $w = waitpid($child, %open ? WNOHANG : 0);
      if ($w == $child) {
        $exit = ($? & 127) ? 128 + ($? & 127) : ($? >> 8);
        # What it left in the background may hold the pipes: wait for them a little only.
        $drain_deadline = _now() + 0.3;
      }
      $chld = 0;
    }
    if (defined $exit && (!%open || _now() > $drain_deadline)) {
      # X comes after all output the host will get: it may stop listening right after.
      send_frame($sock, 'X', $exit);
      # Let the host close first: closing with frames of its still unread would reset the
      # connection (AF_UNIX), which could cost the host the frames it has not read yet.
      shutdown($sock, 1);
      my $rin2 = '';
      vec($rin2, fileno($sock), 1) = 1;
      for (1 .. 20) {
        my $k = select(my $r2 = $rin2, undef, undef, 0.1);
        next if $k < 0;
        last if $k == 0;
        my $n = sysread($sock, my $junk, 65536);
        last if defined $n && $n == 0;
      }
      last;
    }
    if ($in_w && length($inbuf) == 0 && $in_eof) { close $in_w; $in_w = undef; }
    my ($rin, $win) = ('', '');
    vec($rin, fileno($sock), 1) = 1 if !$client_gone && length($inbuf) < (1 << 20);
    vec($rin, fileno($_), 1) = 1 for values %open;
    vec($win, fileno($in_w), 1) = 1 if $in_w && length $inbuf;
    my $timeout = defined $exit ? 0.05 : 0.25;
    my $n = select(my $rout = $rin, my $wout = $win, undef, $timeout);
    next if $n <= 0;
    if (!$client_gone && vec($rout, fileno($sock), 1)) {
      if (!$read_frames->()) {
        # The host went away: a command nobody waits for is ended, like a killed exec.
        $client_gone = 1;
        kill_tree($child) unless defined $exit;
        last if defined $exit;
      }
      $handle->();
    }
    for my $t (keys %open) {
      my $fh = $open{$t};
      next unless vec($rout, fileno($fh), 1);
      my $got = sysread($fh, my $data, 65536);
      if (defined $got && $got > 0) { send_frame($sock, $t, $data) or $client_gone = 1; }
      elsif (defined $got || !($!{EAGAIN} || $!{EINTR})) { close $fh; delete $open{$t}; }
    }
    if ($in_w && vec($wout, fileno($in_w), 1)) {
      my $w = syswrite($in_w, $inbuf);
      if (defined $w) { substr($inbuf, 0, $w, ''); }
      elsif (!$!{EAGAIN}) { $inbuf = ''; $in_eof = 1; close $in_w; $in_w = undef; } # EPIPE: it stopped reading
    }
  }
}

# Seconds since boot with 10 ms resolution (Time::HiRes is not in perl-base).
sub _now { open(my $fh, '<', '/proc/uptime') or return time; my $l = <$fh>; return (split / /, $l)[0]; }
