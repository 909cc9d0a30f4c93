#!/usr/bin/env perl
# The image references of generated deployment files (deploy/ or a release's generation of it), listed or pinned
# to digests. Used by scripts/release.sh (third-party-images, pin-digests):
#
#   image-references.pl list FILE...          each reference the files name, once, sorted: REPOSITORY:TAG, or
#                                             REPOSITORY:TAG@DIGEST where it is pinned already
#   image-references.pl pin DIGESTS FILE...   each reference not pinned yet rewritten as REPOSITORY:TAG@DIGEST in
#                                             place; DIGESTS is a file of "REPOSITORY:TAG sha256:..." lines. A
#                                             reference without a line there fails the run, naming it, before any
#                                             file is written.
#
# The forms the generator writes, and so the only ones read here:
#   image: R:T  or  image: "R:T"        Compose services, Kubernetes containers, literal lines of Helm templates
#   image: "R:${VARIABLE:-T}"           Compose, an image whose tag a variable overrides (the default is pinned)
#   repository: R  then  tag: T         Helm values, on consecutive lines of one mapping (tag becomes "T@DIGEST")
#   - name: R  then  newTag: T          kustomize's images: transformer (newTag becomes "T@DIGEST")
# Template expressions ({{ ... }}) are not references: the values they read are.
use strict;
use warnings;

my ($mode, @files) = @ARGV;
die "usage: image-references.pl list FILE... | pin DIGESTS FILE...\n" unless defined $mode && $mode =~ /^(list|pin)$/;

my %digest;
if ($mode eq 'pin') {
    my $map = shift @files // die "pin needs a DIGESTS file\n";
    open my $in, '<', $map or die "$map: $!\n";
    while (<$in>) {
        next unless /\S/;
        my ($reference, $digest) = split;
        die "$map: '$digest' is not a sha256 digest\n" unless defined $digest && $digest =~ /^sha256:[0-9a-f]{64}$/;
        $digest{$reference} = $digest;
    }
}

my $reference_re = qr{[^"\s{}\$\@]+:[^"\s{}\$\@/]+};
my $digest_re = qr{\@sha256:[0-9a-f]{64}};
my (%references, %missing, %contents);

# Returns the line with the reference pinned (in pin mode), recording the reference either way; a reference
# pinned already (DIGEST defined) stays as it is.
sub pin {
    my ($reference, $pinned, $pinned_line) = @_;
    $references{$reference . ($pinned // '')} = 1;
    return undef if $mode eq 'list' || defined $pinned;
    my $digest = $digest{$reference};
    if (!defined $digest) {
        $missing{$reference} = 1;
        return undef;
    }
    return $pinned_line->($digest);
}

for my $file (@files) {
    open my $in, '<', $file or die "$file: $!\n";
    my @lines = <$in>;
    close $in;
    for my $i (0 .. $#lines) {
        my $line = $lines[$i];
        my $next = $i < $#lines ? $lines[$i + 1] : '';
        my $new;
        if ($line =~ /^(\s*(?:-\s+)?image:\s*)("?)($reference_re)($digest_re)?\2(\s*)$/) {
            my ($before, $quote, $reference, $digest, $after) = ($1, $2, $3, $4, $5);
            $new = pin($reference, $digest, sub { "$before$quote$reference\@$_[0]$quote$after" });
        }
        elsif ($line =~ /^(\s*(?:-\s+)?image:\s*)("?)([^"\s{}\$\@]+):\$\{(\w+):-([^}"\s\@]+)($digest_re)?\}\2(\s*)$/) {
            my ($before, $quote, $repository, $variable, $tag, $digest, $after) = ($1, $2, $3, $4, $5, $6, $7);
            $new = pin("$repository:$tag", $digest, sub { "$before$quote$repository:\${$variable:-$tag\@$_[0]}$quote$after" });
        }
        elsif ($line =~ /^(\s*)repository:\s*"?([^"\s{}]+)"?\s*$/) {
            my ($indent, $repository) = ($1, $2);
            if ($next =~ /^\Q$indent\Etag:\s*"?([^"\s{}\@]+)($digest_re)?"?(\s*)$/) {
                my ($tag, $digest, $after) = ($1, $2, $3);
                my $pinned = pin("$repository:$tag", $digest, sub { "${indent}tag: \"$tag\@$_[0]\"$after" });
                $lines[$i + 1] = $pinned if defined $pinned;
            }
        }
        elsif ($line =~ /^(\s*)-\s+name:\s*"?([^"\s{}]+)"?\s*$/) {
            my ($indent, $repository) = ($1, $2);
            if ($next =~ /^(\Q$indent\E\s+)newTag:\s*"?([^"\s{}\@]+)($digest_re)?"?(\s*)$/) {
                my ($tag_indent, $tag, $digest, $after) = ($1, $2, $3, $4);
                my $pinned = pin("$repository:$tag", $digest, sub { "${tag_indent}newTag: \"$tag\@$_[0]\"$after" });
                $lines[$i + 1] = $pinned if defined $pinned;
            }
        }
        $lines[$i] = $new if defined $new;
    }
    $contents{$file} = join '', @lines;
}

if ($mode eq 'list') {
    print "$_\n" for sort keys %references;
    exit 0;
}
if (%missing) {
    print STDERR "image-references.pl: no digest for " . join(', ', sort keys %missing) . "\n";
    exit 1;
}
for my $file (@files) {
    open my $out, '>', $file or die "$file: $!\n";
    print $out $contents{$file};
    close $out or die "$file: $!\n";
}
print STDERR "image-references.pl: " . scalar(keys %references) . " image(s) pinned in " . scalar(@files) . " file(s)\n";
