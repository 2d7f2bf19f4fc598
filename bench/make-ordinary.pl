#!/usr/bin/perl
# make-ordinary.pl DEST COUNT [SEED]
#
# Writes COUNT ordinary messages, one a file, into the folder DEST: mail
# unlike the shared corpus's (mostly English list traffic of 2002), for the
# benchmark's unfamiliar Maildir. None is a report of any kind, but many
# carry what a bounce carries too, as real mail does: words such as
# "delivery", "failed" or "returned" in the Subject, an embedded message,
# an address beside a number, a mail system's name in the text.
#
#   - personal mail and replies in eight languages, in the charsets their
#     mailers use (ISO-8859-x, KOI8-R, ISO-2022-JP, GB2312, UTF-8), the
#     Subject often an encoded word;
#   - HTML newsletters of 8 to 32 KB (multipart/alternative, quoted-printable
#     or base64), some with inline images (multipart/related);
#   - notifications: shops' shipping and delivery notices, failed payments,
#     build and monitoring alerts (some about a mail queue), code review;
#   - mailing-list digests (multipart/digest of 4 to 14 messages);
#   - mail with attachments of 10 to 100 KB (PDF, ZIP, images), one in fifty
#     of them of 0.3 to 2 MB;
#   - calendar invitations and PGP-signed mail.
#
# The same SEED (default 1) writes the same files. Addresses and hosts are
# in the domains RFC 2606 keeps for examples.
use strict;
use warnings;
use utf8;
use Encode qw(encode);
use MIME::Base64 qw(encode_base64);
use MIME::QuotedPrint qw(encode_qp);

my ($dest, $count, $seed) = @ARGV;
die "usage: $0 DEST COUNT [SEED]\n" unless defined $count && $count =~ /^\d+$/;
srand($seed // 1);
mkdir $dest or die "$dest: $!\n" unless -d $dest;

sub pick { return $_[int(rand(@_))] }
sub chance { return rand() < $_[0] }

# Words of each language, and how its mailers write it. (None of them is
# a word a report's Subject has: personal mail is rarely about deliveries
# and failures; see @personal_subjects for the few that are.)
my %lang = (
    en => { cs => ['us-ascii', 'utf-8'], re => 'Re', wrote => 'wrote',
            w => [qw(the meeting project report week update thanks please review draft budget team schedule
                     notes next friday call agenda plan results question answer time office travel photos
                     family dinner weekend garden kitchen book music concert tickets train deadline client
                     server version release)] },
    de => { cs => ['iso-8859-15', 'utf-8'], re => 'AW', wrote => 'schrieb',
            w => [qw(Besprechung Projekt Bericht Woche danke bitte Entwurf Haushalt Termin Notizen nächste
                     Freitag Anruf Tagesordnung Ergebnisse Frage Antwort Reise Fotos Familie Abendessen
                     Wochenende Garten Küche Buch Frist Kunde größer schön Grüße Straße)] },
    fr => { cs => ['iso-8859-15', 'utf-8'], re => 'RE', wrote => 'a écrit',
            w => [qw(réunion projet rapport semaine merci veuillez brouillon budget équipe calendrier notes
                     prochain vendredi appel ordre résultats question réponse voyage photos famille dîner
                     jardin cuisine livre délai client été déjà très)] },
    es => { cs => ['iso-8859-1', 'utf-8'], re => 'RE', wrote => 'escribió',
            w => [qw(reunión proyecto informe semana gracias por favor borrador presupuesto equipo calendario
                     notas próximo viernes llamada resultados pregunta respuesta viaje fotos familia cena
                     jardín cocina libro plazo cliente año niño mañana)] },
    pl => { cs => ['iso-8859-2', 'utf-8'], re => 'Odp', wrote => 'napisał',
            w => [qw(spotkanie projekt raport tydzień dziękuję proszę szkic budżet zespół harmonogram notatki
                     następny piątek rozmowa wyniki pytanie odpowiedź podróż zdjęcia rodzina kolacja ogród
                     kuchnia książka termin klient źródło żółty)] },
    ru => { cs => ['koi8-r', 'utf-8'], re => 'Re', wrote => 'написал',
            w => [qw(встреча проект отчёт неделя спасибо пожалуйста черновик бюджет команда расписание
                     заметки следующий пятница звонок результаты вопрос ответ поездка фотографии семья
                     ужин сад кухня книга срок клиент)] },
    ja => { cs => ['iso-2022-jp', 'utf-8'], re => 'Re', wrote => 'さんは書きました',
            w => [qw(会議 プロジェクト 報告 今週 ありがとう お願いします 下書き 予算 チーム 予定 メモ 来週 金曜日
                     電話 結果 質問 回答 旅行 写真 家族 夕食 週末 庭 台所 本 締切 お客様)] },
    zh => { cs => ['gb2312', 'utf-8'], re => '回复', wrote => '写道',
            w => [qw(会议 项目 报告 本周 谢谢 请 草稿 预算 团队 日程 笔记 下周 星期五 电话 结果 问题 回答 旅行
                     照片 家庭 晚餐 周末 花园 厨房 书 截止 客户)] },
);
# Personal mail that is about a delivery, an error or a holiday after all.
my @personal_subjects = ('holiday photos', 'error in the budget sheet', 'delivery of the new sofa',
                         'back from vacation', 'the returned books', 'failed attempt at bread');
my @langs = sort keys %lang;
my @first = qw(Anna Ben Carla David Eva Frank Greta Hugo Ines Jan Katrin Luis Marta Nils Olga Piotr Rosa Sven
               Tomas Ursula Vera Walter Yuki Zoe Mei Wei Hiro Ivan Lena);
my @last = qw(Schmidt Martin Garcia Nowak Ivanova Tanaka Wang Smith Dubois Rossi Jensen Kowalski Petrov
              Sato Chen Brown Moreau Lopez Fischer Novak);
my @domains = qw(example.com example.org example.net mail.example.com lists.example.org shop.example.net
                 ci.example.org example.co.example);

sub person {
    my $f = pick(@first);
    my $l = pick(@last);
    my $d = pick(@domains[0 .. 3]);
    return ("$f $l", lc("$f.$l") . "\@$d");
}

sub words {
    my ($l, $n) = @_;
    my $w = $lang{$l}{w};
    my $sep = $l =~ /^(ja|zh)$/ ? '' : ' ';
    my @out;
    push @out, $w->[int(rand(@$w))] for 1 .. $n;
    my $s = join($sep, @out);
    return $l =~ /^(ja|zh)$/ ? $s : ucfirst($s);
}

sub paragraph {
    my ($l) = @_;
    my $stop = $l eq 'ja' ? '。' : $l eq 'zh' ? '。' : '.';
    my @s;
    push @s, words($l, 5 + int(rand(12))) . $stop for 1 .. 2 + int(rand(4));
    my $sep = $l =~ /^(ja|zh)$/ ? '' : ' ';
    my $p = join($sep, @s);
    # Wrapped at about 72 characters, as mailers do.
    my @lines;
    while (length($p) > 72) {
        my $cut = rindex($p, ' ', 72);
        $cut = 36 if $cut < 1;
        push @lines, substr($p, 0, $cut);
        $p = substr($p, $cut);
        $p =~ s/^ //;
    }
    push @lines, $p;
    return join("\n", @lines);
}

my $serial = 0;
my $t0 = 1764547200;    # 2025-12-01

sub date {
    my $t = $t0 + int(rand(86400 * 60));
    my @d = gmtime($t);
    my @wd = qw(Sun Mon Tue Wed Thu Fri Sat);
    my @mo = qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec);
    return sprintf("%s, %d %s %d %02d:%02d:%02d +0000", $wd[$d[6]], $d[3], $mo[$d[4]], $d[5] + 1900, $d[2], $d[1],
                   $d[0]);
}

# A header value: as it is when ASCII, else an RFC 2047 encoded word in
# the charset (base64, as most mailers write them).
sub header_text {
    my ($text, $cs) = @_;
    return $text unless $text =~ /[^\x20-\x7e]/;
    $cs = 'utf-8' if $cs eq 'us-ascii';
    my $bytes = encode($cs, $text);
    my $b = encode_base64($bytes, '');
    return "=?" . uc($cs) . "?B?$b?=";
}

sub received {
    my ($from_host) = @_;
    my $ip = join('.', 192, 0, 2, 1 + int(rand(250)));
    return "Received: from $from_host ($from_host [$ip])\n\tby mx.example.com (Postfix) with ESMTPS id "
         . sprintf('%X', int(rand(2**31))) . "\n\tfor <owner\@example.com>; " . date() . "\n";
}

sub common_headers {
    my (%h) = @_;
    my $id = sprintf('<%08x.%d@%s>', int(rand(2**31)), ++$serial, $h{domain} // 'example.org');
    my $s = received($h{host} // 'smtp.example.org');
    $s .= received('relay.example.net') if chance(0.5);
    $s .= "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" . ($h{domain} // 'example.org')
        . "; s=s1;\n\th=from:to:subject:date:message-id; bh=" . encode_base64(pack('N*', map { rand(2**32) } 1 .. 8), '')
        . ";\n\tb=" . encode_base64(pack('N*', map { rand(2**32) } 1 .. 32), '') . "\n" if chance(0.6);
    $s .= "From: $h{from}\nTo: $h{to}\nSubject: $h{subject}\nDate: " . date() . "\nMessage-ID: $id\n";
    $s .= "MIME-Version: 1.0\n";
    return $s;
}

# A text body in a charset, with its Content-* fields.
sub text_part {
    my ($text, $cs, $type) = @_;
    $type //= 'plain';
    my $bytes = encode($cs, $text);
    if ($cs eq 'iso-2022-jp' || $bytes !~ /[\x80-\xff]/) {
        return "Content-Type: text/$type; charset=\"$cs\"\nContent-Transfer-Encoding: 7bit\n\n$bytes\n";
    }
    if (chance(0.5) && $cs !~ /^(koi8-r|gb2312)$/) {
        return "Content-Type: text/$type; charset=\"$cs\"\nContent-Transfer-Encoding: quoted-printable\n\n"
            . encode_qp($bytes);
    }
    return "Content-Type: text/$type; charset=\"$cs\"\nContent-Transfer-Encoding: base64\n\n" . encode_base64($bytes);
}

sub personal {
    my $l = pick(@langs);
    my $cs = pick(@{ $lang{$l}{cs} });
    my ($fn, $fa) = person();
    my ($tn, $ta) = person();
    my $subject = chance(0.05) ? pick(@personal_subjects) : words($l, 2 + int(rand(5)));
    my $body = join("\n\n", map { paragraph($l) } 1 .. 1 + int(rand(4)));
    if (chance(0.5)) {
        $subject = "$lang{$l}{re}: $subject";
        my $quoted = join("\n", map { "> $_" } split(/\n/, join("\n\n", map { paragraph($l) } 1 .. 1 + int(rand(3)))));
        $body .= "\n\n" . date() . ", $tn <$ta> $lang{$l}{wrote}:\n$quoted";
    }
    $body .= "\n\n-- \n$fn\n";
    my $h = common_headers(from => header_text($fn, $cs) . " <$fa>", to => header_text($tn, $cs) . " <$ta>",
                           subject => header_text($subject, $cs), domain => (split /\@/, $fa)[1]);
    $h .= "User-Agent: " . pick('Mozilla Thunderbird', 'Evolution 3.46', 'Mutt/2.2', 'Roundcube Webmail',
                                'Apple Mail (2.3731)') . "\n";
    return $h . text_part($body, $cs);
}

my @news_subjects = (
    'Weekly news from the garden club', 'Your December deals are here', 'Free delivery on all orders this week',
    'New arrivals: winter collection', 'Returned items: our holiday policy', 'Last chance: 30% off',
    'The week in review', 'Webinar invitation: failed projects and what they teach',
    'Delivery dates for the holidays', 'Your monthly statement is ready',
);

sub html_body {
    my ($l, $kb) = @_;
    my $html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>\n"
        . "body{font-family:Arial,sans-serif;margin:0;padding:0}td{padding:8px}.btn{background:#0a7;color:#fff}\n"
        . "</style></head><body>\n<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\">\n";
    my $i = 0;
    while (length($html) < $kb * 1024) {
        $i++;
        $html .= "<tr><td class=\"item\" style=\"border-bottom:1px solid #ddd;padding:16px 24px\">"
            . "<h2 style=\"font-size:18px\">" . words($l, 3 + int(rand(4))) . "</h2>\n"
            . "<p style=\"font-size:14px;line-height:20px\">" . paragraph($l) . "</p>\n"
            . "<a class=\"btn\" href=\"https://shop.example.net/p/$i?utm_source=newsletter&amp;utm_medium=email\">"
            . words($l, 2) . "</a>"
            . "<img src=\"https://cdn.example.net/img/$i.jpg\" width=\"120\" height=\"80\" alt=\"\"></td></tr>\n";
    }
    $html .= "<tr><td style=\"font-size:11px;color:#888\">You receive this mail because you subscribed at "
        . "shop.example.net. <a href=\"https://shop.example.net/unsubscribe?u=1234\">Unsubscribe</a>. "
        . "Shop Example, 1 Example Street, 12345 Example City</td></tr>\n</table></body></html>\n";
    return $html;
}

sub newsletter {
    my $l = pick(@langs);
    my $subject = chance(0.6) ? pick(@news_subjects) : words($l, 3 + int(rand(4)));
    my $b = "np" . int(rand(1e9));
    my $html = html_body($l, 8 + int(rand(24)));
    (my $text = $html) =~ s/<[^>]+>//g;
    $text =~ s/\n{2,}/\n/g;
    my $h = common_headers(from => '"Shop Example" <news@shop.example.net>', to => 'owner@example.com',
                           subject => header_text($subject, 'utf-8'), domain => 'shop.example.net',
                           host => 'out.shop.example.net');
    $h .= "List-Unsubscribe: <https://shop.example.net/unsubscribe?u=1234>, <mailto:unsub\@shop.example.net>\n"
        . "List-Id: Shop Example news <news.shop.example.net>\nPrecedence: bulk\n"
        . "Feedback-ID: 1234:news:shop.example.net\n";
    my $alt = "Content-Type: multipart/alternative; boundary=\"$b\"\n\n--$b\n" . text_part($text, 'utf-8')
        . "--$b\n" . text_part($html, 'utf-8', 'html') . "--$b--\n";
    if (chance(0.3)) {
        my $r = "rel" . int(rand(1e9));
        my $img = encode_base64(pack('C*', map { int(rand(256)) } 1 .. 6000 + int(rand(24000))));
        return $h . "Content-Type: multipart/related; boundary=\"$r\"\n\n--$r\n$alt--$r\n"
            . "Content-Type: image/png; name=\"logo.png\"\nContent-Transfer-Encoding: base64\n"
            . "Content-ID: <logo\@shop.example.net>\nContent-Disposition: inline; filename=\"logo.png\"\n\n$img--$r--\n";
    }
    return $h . $alt;
}

# Machine-written mail about deliveries, failures and returns that is no
# report about a message: the words a triage looks for, in other senses.
my @notices = (
    [ 'Your order #%d has shipped', "Good news: your order %d is on its way.\nTracking number: 1Z%d.\n" ],
    [ 'Delivery update: your parcel %d', "We tried to deliver your parcel %d today but nobody was home.\n"
        . "Please choose a new delivery date at https://parcel.example.com/%d\n" ],
    [ 'Your package was delivered', "Your package %d was delivered at 10:42 and left at the front door.\n"
        . "Reference %d.\n" ],
    [ 'Payment failed for invoice %d', "We could not charge your card for invoice %d.\n"
        . "Please update your payment details; we will try again in 3 days (attempt %d of 3).\n" ],
    [ 'Return received: order %d', "We have received your returned items for order %d.\nRefund: %d.00 EUR.\n" ],
    [ '[ci] Build failed: main (#%d)', "Build %d failed in stage test.\n\n  FAIL test_delivery (%d ms)\n"
        . "    expected status 250, got 550\n\nhttps://ci.example.org/builds/%d\n" ],
    [ '[monitor] ALERT mail queue on mx1: %d messages deferred', "Host mx1.example.com: %d messages in the "
        . "deferred queue (threshold 100).\nOldest: %d minutes.\nTop reason: connection timed out.\n" ],
    [ 'Re: [example/project] Fix retries of failed deliveries (#%d)', "\@reviewer commented on this pull request.\n\n"
        . "> - retry after 4xx, give up after 5xx\n\nLooks good; the test for 550 5.1.1 still fails on CI (run %d).\n"
        . "Reply to this email directly or view it at https://code.example.org/pr/%d\n" ],
    [ 'Your mailbox is almost full', "Your mailbox uses %d MB of its 1000 MB. When it is full, new mail will be "
        . "returned to its senders.\nDelete old messages or ask for more space (ticket %d).\n" ],
    [ 'Undelivered items: your order %d', "One item of order %d could not be delivered and was returned to our "
        . "warehouse. Reference %d.\n" ],
);

sub notification {
    no warnings 'redundant';    # not every notice uses every number
    my ($s, $b) = @{ pick(@notices) };
    my @n = map { 1000 + int(rand(90000)) } 1 .. 4;
    my $subject = sprintf($s, @n);
    my $body = sprintf($b, @n) . "\n-- \nThis message was sent automatically; please do not reply.\n";
    my $from = $subject =~ /^\[ci\]/ ? 'CI <ci@ci.example.org>'
             : $subject =~ /monitor/ ? 'monitor@ops.example.com'
             : $subject =~ /^Re: \[/ ? '"Reviewer" <notifications@code.example.org>'
             : $subject =~ /mailbox/ ? '"Mail Service" <helpdesk@example.com>'
             : '"Shop Example" <no-reply@shop.example.net>';
    my $h = common_headers(from => $from, to => 'owner@example.com', subject => $subject,
                           domain => 'shop.example.net');
    $h .= "X-Mailer: notify 2.1\n" if chance(0.5);
    return $h . text_part($body, 'utf-8');
}

sub digest {
    my $l = pick(qw(en en en de fr es));
    my $b = "dg" . int(rand(1e9));
    my $n = 4 + int(rand(11));
    my $vol = 1 + int(rand(40));
    my $h = common_headers(from => 'project-users-request@lists.example.org', to => 'project-users@lists.example.org',
                           subject => "project-users Digest, Vol $vol, Issue " . (1 + int(rand(30))),
                           domain => 'lists.example.org', host => 'lists.example.org');
    $h .= "List-Id: <project-users.lists.example.org>\nPrecedence: list\n"
        . "Content-Type: multipart/mixed; boundary=\"$b\"\n\n--$b\nContent-Type: text/plain; charset=\"us-ascii\"\n"
        . "Content-Description: Project-users Digest, Vol $vol\n\nToday's Topics:\n\n";
    $h .= "   $_. " . words('en', 4) . "\n" for 1 .. $n;
    my $d = "dd" . int(rand(1e9));
    $h .= "\n--$b\nContent-Type: multipart/digest; boundary=\"$d\"\n\n";
    for (1 .. $n) {
        my ($fn, $fa) = person();
        $h .= "--$d\nContent-Type: message/rfc822\n\n";
        $h .= "From: $fn <$fa>\nTo: project-users\@lists.example.org\nSubject: Re: " . words('en', 4) . "\n"
            . "Date: " . date() . "\nMessage-ID: <" . int(rand(1e9)) . "\@example.org>\n"
            . "Content-Type: text/plain; charset=\"us-ascii\"\n\n" . paragraph($l eq 'en' ? 'en' : 'en') . "\n\n";
    }
    $h .= "--$d--\n\n--$b--\n";
    return $h;
}

sub attachment {
    my $l = pick(@langs);
    my $cs = pick(@{ $lang{$l}{cs} });
    my ($fn, $fa) = person();
    my $b = "mx" . int(rand(1e9));
    my ($type, $name) = @{ pick([ 'application/pdf', 'invoice.pdf' ], [ 'application/zip', 'photos.zip' ],
                                [ 'image/jpeg', 'IMG_2041.jpg' ],
                                [ 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                                  'report.docx' ]) };
    my $size = chance(0.02) ? 300_000 + int(rand(1_700_000)) : 10_000 + int(rand(90_000));
    # Random bytes in 4 KB blocks repeated: big, cheap to make, as opaque.
    my $block = pack('N*', map { int(rand(2**32)) } 1 .. 1024);
    my $data = substr($block x (int($size / 4096) + 1), 0, $size);
    my $h = common_headers(from => header_text($fn, $cs) . " <$fa>", to => 'owner@example.com',
                           subject => header_text(words($l, 3), $cs), domain => (split /\@/, $fa)[1]);
    return $h . "Content-Type: multipart/mixed; boundary=\"$b\"\n\n--$b\n" . text_part(paragraph($l) . "\n", $cs)
        . "--$b\nContent-Type: $type; name=\"$name\"\nContent-Disposition: attachment; filename=\"$name\"\n"
        . "Content-Transfer-Encoding: base64\n\n" . encode_base64($data) . "--$b--\n";
}

sub invitation {
    my ($fn, $fa) = person();
    my $b = "cal" . int(rand(1e9));
    my $what = words('en', 3);
    my $h = common_headers(from => "$fn <$fa>", to => 'owner@example.com', subject => "Invitation: $what",
                           domain => (split /\@/, $fa)[1]);
    my $ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Calendar//EN\r\nMETHOD:REQUEST\r\n"
        . "BEGIN:VEVENT\r\nUID:" . int(rand(1e9)) . "\@example.org\r\nDTSTART:20251215T100000Z\r\n"
        . "DTEND:20251215T110000Z\r\nSUMMARY:$what\r\nORGANIZER;CN=$fn:mailto:$fa\r\n"
        . "ATTENDEE;RSVP=TRUE:mailto:owner\@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    return $h . "Content-Type: multipart/alternative; boundary=\"$b\"\n\n--$b\n"
        . text_part("You are invited: $what\nMonday 15 December, 10:00-11:00 UTC\n", 'utf-8')
        . "--$b\nContent-Type: text/calendar; charset=\"utf-8\"; method=REQUEST\n\n$ics--$b--\n";
}

sub signed {
    my ($fn, $fa) = person();
    my $b = "sg" . int(rand(1e9));
    my $h = common_headers(from => "$fn <$fa>", to => 'project-dev@lists.example.org',
                           subject => "[ANNOUNCE] release " . (1 + int(rand(9))) . "." . int(rand(20)),
                           domain => (split /\@/, $fa)[1]);
    my $sig = encode_base64(pack('N*', map { int(rand(2**32)) } 1 .. 64));
    return $h . "Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; "
        . "boundary=\"$b\"\n\n--$b\n" . text_part(join("\n\n", map { paragraph('en') } 1 .. 3) . "\n", 'us-ascii')
        . "--$b\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n"
        . "-----BEGIN PGP SIGNATURE-----\n\n$sig-----END PGP SIGNATURE-----\n--$b--\n";
}

# The mix, in shares of a hundred.
my @kinds = ((\&personal) x 39, (\&newsletter) x 20, (\&notification) x 20, (\&digest) x 6, (\&attachment) x 5,
             (\&invitation) x 4, (\&signed) x 6);
for my $i (1 .. $count) {
    my $msg = $kinds[int(rand(@kinds))]->();
    my $path = sprintf('%s/%06d.eml', $dest, $i);
    open my $out, '>:raw', $path or die "$path: $!\n";
    print $out $msg;
    close $out or die "$path: $!\n";
}
