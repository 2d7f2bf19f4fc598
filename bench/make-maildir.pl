#!/usr/bin/perl
# make-maildir.pl DEST N CORPUS [BOUNCE_PERCENT]
#
# Builds the Maildir DEST (new/, cur/, tmp/) of N messages: BOUNCE_PERCENT
# (default 5) of them copied from CORPUS/bounces, the rest from
# CORPUS/not-bounces (every file below it, recursively), cycling through each
# folder's files in name order; when fewer messages are wanted from a folder
# than it has files, they are taken at even steps through it, so that a small
# mailbox holds the same mix of mail as a big one (not only the files that
# come first by name). Every copy gets a unique Maildir name; bounces
# are spread evenly among the ordinary mail; one message in three goes to
# new/, the others to cur/ (with a ":2,S" flag suffix), as in a real mailbox.
#
# When DEST ends in ".mbox", the same N messages are written to one mbox
# file instead, each after a "From " line, with CRLF line ends made LF and
# body lines that begin with "From " (after any ">") given one more ">",
# as mboxrd does.
use strict;
use warnings;
use File::Copy qw(copy);
use File::Find qw(find);

my ($dest, $n, $corpus, $pct) = @ARGV;
die "usage: $0 DEST N CORPUS [BOUNCE_PERCENT]\n" unless defined $corpus && $n =~ /^\d+$/;
$pct //= 5;

sub files_under {
    my ($dir) = @_;
    my @f;
    find({ wanted => sub { push @f, $File::Find::name if -f $_ && !/^\./ }, follow => 1 }, $dir);
    return sort @f;
}

my @bounces = files_under("$corpus/bounces");
my @others = files_under("$corpus/not-bounces");
die "$corpus/bounces: no files\n" unless @bounces;
die "$corpus/not-bounces: no files\n" unless @others;

my $mbox;
if ($dest =~ /\.mbox\z/) {
    open $mbox, '>:raw', $dest or die "$dest: $!\n";
} else {
    for my $sub ("", qw(/new /cur /tmp)) {
        mkdir "$dest$sub" or die "$dest$sub: $!\n" unless -d "$dest$sub";
    }
}
# The text of a source file as an mbox holds it, read once.
my %mboxed;
sub mboxed {
    my ($path) = @_;
    return $mboxed{$path} //= do {
        open my $in, '<:raw', $path or die "$path: $!\n";
        local $/;
        my $text = <$in>;
        $text =~ s/\r\n/\n/g;
        $text =~ s/^(>*From )/>$1/mg;
        $text .= "\n" unless $text =~ /\n\z/;
        "From bench\@example.org Tue Nov 14 22:13:20 2023\n$text\n";
    };
}

my $nb = int($n * $pct / 100 + 0.5);
my ($ib, $io, $placed) = (0, 0, 0);
# The k-th of $count files wanted from @$files.
sub pick {
    my ($files, $k, $count) = @_;
    return $files->[$count < @$files ? int($k * @$files / $count) : $k % @$files];
}
my $t = 1700000000;
for my $i (0 .. $n - 1) {
    # The i-th message is a bounce when it brings the count of bounces so
    # far up to its share: an even spread.
    my $is_bounce = int(($i + 1) * $nb / $n) > $placed;
    my $src;
    if ($is_bounce) {
        $src = pick(\@bounces, $ib++, $nb);
        $placed++;
    } else {
        $src = pick(\@others, $io++, $n - $nb);
    }
    if ($mbox) {
        print $mbox mboxed($src) or die "$dest: $!\n";
        next;
    }
    my $name = sprintf "%d.M%06dP%dQ%d.bench.example", $t + $i, $i, $$, $i;
    my $path = $i % 3 == 0 ? "$dest/new/$name" : "$dest/cur/$name:2,S";
    copy($src, $path) or die "$src -> $path: $!\n";
}
if ($mbox) {
    close $mbox or die "$dest: $!\n";
}
printf "%d messages (%d bounces) in %s\n", $n, $placed, $dest;
