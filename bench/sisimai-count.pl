#!/usr/bin/perl
# sisimai-count.pl MAILDIR — what Sisimai makes of every message of a Maildir
# (its new/ and cur/; Sisimai reads one folder at a time): prints the number
# of results (one per bounced recipient). For bench/run.sh.
use strict;
use warnings;
use Sisimai;

my $n = 0;
for my $dir (map { ("$_/new", "$_/cur") } @ARGV) {
    my $v = Sisimai->can('rise') ? Sisimai->rise($dir) : Sisimai->make($dir);
    $n += scalar @{ $v // [] };
}
print "$n\n";
