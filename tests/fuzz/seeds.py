#!/usr/bin/env python3
"""Write the hand-made seed inputs of every fuzz target into
tests/fuzz/corpus/<target>/ (named seed-NNN; existing files are kept).
The kept corpus is these seeds grown by fuzzing and minimized with
libFuzzer's -merge=1 (see .ci/sanitize.sh); rerun this only to re-seed."""

import base64
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

FORM = b"application/x-www-form-urlencoded"
KEY = b"k3mz8q2v9x1c7b5n4a6s0d8f2g4h6j8"

urlencoded = [
    b"", b"secret=hello", b"secret=hello&ttl=3600&passphrase=p%20w",
    b"secret=a+b%2Bc%26d%3D", b"secret=%zz", b"secret=abc%4", b"secret=%", b"%",
    b"sec%00ret=x", b"secret=%00", b"secret=a&secret=b", b"recipient[]=a@b.cd&recipient[]=e@f.gh",
    b"recipient[]=a@b.cd&recipient=e@f.gh", b"[]=x", b"=x", b"x=", b"&&&", b"a&b&c", b"==",
    b"secret=%C3%A9t%C3%A9", b"secret=%C3", b"secret=%ED%A0%80", b"secret=%F4%90%80%80",
    b"secret=%C0%AF", b"secret=\xff\xfe", b"n" * 64 + b"=v", b"n" * 65 + b"=v",
    b"&".join(b"f%d=x" % i for i in range(64)), b"&".join(b"f%d=x" % i for i in range(65)),
    b"secret=body\nsecret=query&ttl=60", b"a=1\na=2", b"ttl=60\nttl=60&ttl=70",
    b"x[]=1&x[]=2\nx=3", b"secret=v&passphrase=\nkey=%41%42",
]

def mp(ctype, parts, close=True, boundary=b"b"):
    out = b""
    for hdrs, val in parts:
        out += b"--" + boundary + b"\r\n" + hdrs + b"\r\n\r\n" + val + b"\r\n"
    if close:
        out += b"--" + boundary + b"--\r\n"
    return ctype + b"\n" + out

MP = b"multipart/form-data; boundary=b"
CD = b'Content-Disposition: form-data; name="%s"'
multipart = [
    mp(MP, [(CD % b"secret", b"hello")]),
    mp(MP, [(CD % b"secret", b"hello"), (CD % b"ttl", b"60"), (CD % b"passphrase", b"p w")]),
    mp(b'multipart/form-data; boundary="b"', [(CD % b"secret", b"x")]),
    mp(b"multipart/form-data; charset=utf-8; boundary=b", [(CD % b"secret", b"x")]),
    mp(b"multipart/form-data; boundary=------------------------d74496d66958873e",
       [(CD % b"secret", b"curl -F")], boundary=b"------------------------d74496d66958873e"),
    mp(MP, [(CD % b"secret", b"abc")], close=False),
    mp(MP, [(b"Content-Disposition: form-data", b"abc")]),
    mp(MP, [(CD % b"secret" + b'; filename="a.txt"\r\nContent-Type: text/plain', b"file body")]),
    mp(MP, [(CD % b"secret", b"a"), (CD % b"secret", b"b")]),
    mp(MP, [(CD % b"r[]", b"a@b.cd"), (CD % b"r[]", b"e@f.gh")]),
    mp(MP, [(CD % b"secret", b"\xff\xfe")]), mp(MP, [(CD % b"secret", b"a\x00b")]),
    mp(MP, [(b"Content-Disposition: form-data; name=secret", b"unquoted")]),
    mp(MP, [(b'Content-Disposition: form-data; name="secret', b"unterminated")]),
    mp(MP, [(b"content-disposition: FORM-DATA; NAME=\"s\"", b"case")]),
    mp(MP, [(CD % b"secret", b"v\r\n--bx not a delimiter")]),
    mp(MP, [(CD % (b"n" * 65), b"long name")]),
    MP + b"\n--b--\r\n", MP + b"\n--b \t\r\n" + CD % b"a" + b"\r\n\r\nv\r\n--b--",
    MP + b"\n", MP + b"\n--b", MP + b"\n--b\r\n", MP + b"\n--b\r\n\r\n\r\n--b--",
    b"multipart/form-data\n--b\r\n\r\n", b"multipart/form-data; boundary=\n--\r\n",
    b"multipart/form-data; boundary=" + b"x" * 70 + b"\n--" + b"x" * 70 + b"--",
    b"multipart/form-data; boundary=" + b"x" * 71 + b"\n--" + b"x" * 71 + b"--",
    b"multipart/form-data; boundary=\"unterminated\n--unterminated--",
    mp(MP, [(CD % (b"f%d" % i), b"x") for i in range(65)]),
    # header parameters: ';' and name= inside quotes, quoted-pairs, repeats
    mp(MP, [(b'Content-Disposition: form-data; filename="a;name=passphrase;"; name="secret"', b"v")]),
    mp(b'multipart/form-data; charset="x;boundary=evil"; boundary=b', [(CD % b"a", b"1")]),
    mp(b'multipart/form-data; charset="x;boundary=evil"; boundary=b', [(CD % b"a", b"1")],
       boundary=b"evil"),
    mp(MP, [(b'Content-Disposition: form-data; xname="passphrase"; name="secret"', b"v")]),
    mp(MP, [(b'Content-Disposition: form-data; name="a\\"b\\\\c"', b"v")]),
    mp(MP, [(b'Content-Disposition: form-data; name="a\\"', b"v")]),
    mp(MP, [(b'Content-Disposition: form-data; name="a"; name="b"', b"v")]),
    mp(MP, [(b'Content-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"', b"v")]),
    mp(MP, [(b'Content-Disposition: attachment; name="a"', b"v")]),
    mp(MP, [(b"Content-Disposition: form-data ;  ; name=a ;", b"v")]),
    mp(MP, [(b"Content-Disposition: form-data; foo; name=a", b"v")]),
    mp(MP, [(b"Content-Disposition: form-data; name=a b", b"v")]),
    mp(MP, [(b'Content-Disposition: form-data; name="a\x01"', b"v")]),
    mp(MP, [(b'Content-Disposition: form-data; name="' + b"n" * 64 + b'[]"', b"v")]),
    mp(b"multipart/form-dataX; boundary=b", [(CD % b"a", b"1")]),
    mp(b"multipart/form-data; boundary=b; boundary=b", [(CD % b"a", b"1")]),
    mp(b'multipart/form-data; boundary="a;b=c"', [(CD % b"a", b"1")], boundary=b"a;b=c"),
    mp(b'multipart/form-data; boundary="' + b"b\\b" * 35 + b'"', [(CD % b"a", b"1")], boundary=b"b" * 70),
]

json = [
    b"{}", b'{"secret":"hello"}', b'{"secret":"hello","ttl":3600,"passphrase":"p"}',
    b'{"secret":"a","secret":"b"}', b'{"secret":"a"', b'"secret"', b"[]", b"null", b"1",
    b'{"secret":{"a":"b"}}', b'{"secret":["a","b"]}', b'{"secret":[]}', b'{"secret":[{"a":1}]}',
    b'{"secret":null}', b'{"ttl":true,"x":false,"n":1.5e3,"m":-0}', b'{"secret":"\\u0000"}',
    b'{"\\u0000":"x"}', b'{"secret":"\\ud800"}', b'{"secret":"\\ud83d\\ude00"}', b'{"secret":"\xff\xfe"}',
    b'{"secret":"caf\xc3\xa9"}', b'{"a:b":"c","d":":"}', b'{"a":"\\"}:{"}', b'{"secret":"x"} ',
    b'{"secret":"x"} x', b'{"secret":"x"}{}', b"  \n{\"secret\" : \"x\" }\n",
    b"[" * 100 + b"]" * 100, b'{"a":' + b"[" * 10 + b"]" * 10 + b"}",
    b'{"' + b"n" * 65 + b'":"v"}', b"{" + b",".join(b'"f%d":"x"' % i for i in range(65)) + b"}",
    b'{"recipient[]":["a@b.cd"]}', b'{"x[]":"1","x":"2"}', b"{'secret':'x'}", b'{secret:"x"}',
    b'{"secret":"x",}', b'{"a":1e999999}', b'{"a":-9223372036854775809}',
    # what json-c let through or re-spelled, and the strict grammar
    b'{"passphrase\\u0000x":"v"}', b'{"a\\u0000":null}', b'{"secret":"\\ud800x\\udc00"}',
    b'{"s":"\\udc00\\ud800"}', b'{"s":"\\ud800\\n\\udc00"}', b'{"s":"\\ud800\\u00"}',
    b'{"s":"\\ud8f7\\ude00\\uDBFF\\uDFFF"}', b'{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC"}',
    b'{"s":"a\nb"}', b'{"s":"\\x41"}', b'{"s":"\\u12g4"}', b'{"s":"\xed\xa0\x80"}',
    b'{"a":0,"b":-0,"c":1.50,"d":1E+3,"e":-1.25e-2}', b'{"a":01}', b'{"a":-04E2}', b'{"a":2.}',
    b'{"a":.5}', b'{"a":1e+}', b'{"a":NaN}', b'{"a":truex}', b'{"a":[1,]}', b'{"a":[null]}',
    b'{"a":[true,"x",-1]}', b'{"a":null,"a":1}', b'{"x[]":["1"],"x[]":["2"]}', b'{"a":1,"\\u0061":2}',
    b'{"":1,"[]":2}', b'{"x[][]":"","[]":""}', b'{"\xff":[]}', b"{" + b",".join(b'"f%d":null' % i for i in range(65)) + b"}",
    b"\t\r\n {\n\"a\" : [ 1 , 2 ] \n}\n", b'{"a":1}\x0c', b"\xc2\xa0{}", b"  ",
]

route = [
    b"GET\n/api/v1/status", b"HEAD\n/api/v1/status", b"POST\n/api/v1/status", b"GET\n/api/v1/authcheck",
    b"POST\n/api/v1/share", b"POST\n/api/v1/create", b"GET\n/api/v1/share", b"POST\n/api/v1/generate",
    b"POST\n/api/v1/secret/" + KEY, b"GET\n/api/v1/secret/" + KEY, b"POST\n/api/v1/secret/",
    b"POST\n/api/v1/secret//", b"POST\n/api/v1/secret/a/b", b"GET\n/api/v1/private/recent",
    b"POST\n/api/v1/private/recent", b"GET\n/api/v1/metadata/recent", b"GET\n/api/v1/receipt/recent",
    b"GET\n/api/v1/private/" + KEY, b"POST\n/api/v1/metadata/" + KEY, b"HEAD\n/api/v1/receipt/" + KEY,
    b"POST\n/api/v1/private/" + KEY + b"/burn", b"GET\n/api/v1/private/" + KEY + b"/burn",
    b"POST\n/api/v1/receipt/" + KEY + b"/burn/", b"GET\n/", b"POST\n/", b"PUT\n/", b"GET\n/secret/" + KEY,
    b"POST\n/secret/" + KEY, b"GET\n/private/" + KEY, b"POST\n/private/" + KEY + b"/burn",
    b"GET\n/static/ots.css", b"GET\n/static/../../etc/passwd", b"GET\n/api/v1/", b"GET\n/api/v1",
    b"GET\n", b"\n/api/v1/status", b"GE\n/api/v1/status", b"GETX\n/api/v1/status", b"GET HEAD\n/api/v1/status",
    b"OPTIONS\n/api/v1/share", b"PROPFIND\n/api/v1/private/x", b"GET\n/api/v1/secret/" + b"a" * 1100,
    b"GET\n//api/v1/status", b"GET\n/api/v1/status/", b"GET\napi/v1/status",
]

def b64(s):
    return base64.b64encode(s)

auth = [
    b"alice@example.com:tok", b"Alice@Example.COM:tok", b":tok", b"alice:", b"alice", b"a:b:c",
    b"user\x00:pw", b"user:p\x00w", b"\xff:pw", b"caf\xc3\xa9:pw", b"u" * 254 + b":p", b"u" * 255 + b":p",
    b"u:" + b"p" * 256, b"u:" + b"p" * 257, b"Basic " + b64(b"alice@example.com:tok"),
    b"basic " + b64(b"a:b"), b"BASIC   " + b64(b"a:b"), b"Basic", b"Basic ", b"Basic %%%",
    b"Basic YWxpY2U=", b"Basic YWxpY2U6", b"Basic YWxpY2U6dG9r=", b"Basic YWxpY2U6dG9r\n",
    b"Basic " + b"A" * 700, b"Bearer abc", b"Digest username=\"a\"", b"Basic YW\nxp", b"Basic YW xp",
]

keys = [
    KEY, b"a" * 20, b"a" * 19, b"Z" * 64, b"Z" * 65, b"0" * 31, b"abc-def" + b"a" * 20,
    b"a" * 30 + b"\x00", b"a" * 30 + b"\xc3\xa9", b"", b"A1b2C3d4E5f6G7h8I9j0K", b"a" * 31 + b" ",
]

conf = [
    b"database = /tmp/x.db\nmaster_key = /tmp/x.key\n",
    b"# comment\ndatabase=/d\nmaster_key=/k\nbase_url = https://ots.example/\nttl_default = 3600 # one hour\n",
    b"database = /d\nmaster_key = /k\nplan.pro.ttl_max = 86400\nplan.pro.size_max = 100000\nplan.pro.unlimited = yes\n",
    b"database = /d\nmaster_key = /k\nlimit.create_secret = 10\nlimit.failed_passphrase = 0\nlimit.nope = 1\n",
    b"database = /d\nmaster_key = /k\ntrusted_proxies = 10.0.0.1 10.0.0.2\t::1\n",
    b"database = /d\nmaster_key = /k\ntrusted_proxies = " + b" ".join(b"10.0.0.%d" % i for i in range(17)) + b"\n",
    b"database = /d\nmaster_key = /k\nsmtp_starttls = required\nsmtp_port = 587\nsmtp_user = u\nmail_from = a@b.c\n",
    b"database = /d\nmaster_key = /k\nsmtp_starttls = maybe\n",
    b"database = /d\nmaster_key = /k\nmail_from = <a@b.c>\n",
    b"database = /d\nmaster_key = /k\npassphrase_min = 10\npassphrase_max = 5\n",
    b"database = /d\nmaster_key = /k\npassphrase_required = yes\npassphrase_min = 8\n",
    b"database = /d\nmaster_key = /k\npassphrase_required = perhaps\n",
    b"database = /d\nmaster_key = /k\nbody_max = 1023\n", b"database = /d\nmaster_key = /k\nbody_max = 1048576\n",
    b"database = /d\nmaster_key = /k\nttl_default = 59\n", b"database = /d\nmaster_key = /k\nttl_default = 1e3\n",
    b"database = /d\nmaster_key = /k\nttl_default = -60\n", b"database = /d\nmaster_key = /k\nttl_default =\n",
    b"database = /d\nmaster_key = /k\nttl_default = 99999999999999999999999\n",
    b"database = /d\nmaster_key = /k\nplan.Bad.ttl_max = 60\n", b"database = /d\nmaster_key = /k\nplan..ttl_max = 60\n",
    b"database = /d\nmaster_key = /k\nplan.x.colour = red\n", b"database = /d\nmaster_key = /k\nplan.x\n",
    b"database = /d\nmaster_key = /k\n" + b"".join(b"plan.p%d.ttl_max = 60\n" % i for i in range(33)),
    b"database = /d\nmaster_key = /k\nunknown = 1\n", b"database = /d\n", b"master_key = /k\n", b"",
    b"database\n", b"= value\n", b"database = \n", b"database = /d\r\nmaster_key = /k\r\n",
    b"database = /d\nmaster_key = /k\nweb_dir = /w\x00x\n", b"database = " + b"d" * 1100 + b"\nmaster_key = /k\n",
    b"  \t\n\t# indented comment\n\r\ndatabase = /d\nmaster_key = /k", b"database = /a\ndatabase = /b\nmaster_key = /k\n",
    b"database = /d\nmaster_key = /k\npassphrase_lock_after = 5\npassphrase_lock_time = 1800\npassphrase_burn_after = 20\n",
    b"database = /d\nmaster_key = /k\nanon_size_max = 16777216\nplan.big.size_max = 16777216\n",
    b"database = /d\nmaster_key = /k\nmail_max_age = 86400\nmail_keep = 0\nsmtp_timeout = 601\n",
    b"database = /d\nmaster_key = /k\nbase_url = ////\n",
]

mail = [
    b"delano@onetimesecret.com", b"a@b.cd", b"a.b.c@d-e.f.gh", b"a..b@c.de", b".a@b.cd", b"a.@b.cd",
    b"a@b", b"a@b.c1", b"a@-b.cd", b"a@b-.cd", b"a@b..cd", b"a@.b.cd", b"a@b.cd.", b"@b.cd", b"a@",
    b"a@b@c.de", b"a b@c.de", b"a\r\n@c.de", b"<a@b.cd>", b"\"a\"@b.cd", b"a,b@c.de", b"o'neil@b.cd",
    b"!#$%&*+/=?^_`{|}~-@b.cd", b"x" * 64 + b"@b.cd", b"x" * 65 + b"@b.cd",
    b"a@" + b"b" * 63 + b".cd", b"a@" + b"b" * 64 + b".cd", b"a@" + b".".join([b"b" * 63] * 3) + b".cd",
    b"a@" + b".".join([b"b" * 63] * 4) + b".cd", b"caf\xc3\xa9@b.cd", b"a@b.c", b"a\x00@b.cd", b"A@B.CD",
    b"ab@c.d.e.f.g.hi",
]

def http(env, body=b""):
    return b"".join(k + b"=" + v + b"\n" for k, v in env) + b"\n" + body

http_ = [
    http([(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/api/v1/status")]),
    http([(b"REQUEST_METHOD", b"HEAD"), (b"REQUEST_URI", b"/api/v1/status?x=1"), (b"SCRIPT_NAME", b"")]),
    http([(b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", b"/ots/api/v1/status"), (b"SCRIPT_NAME", b"/ots")]),
    http([(b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", b"/ots/api/v1/status"), (b"SCRIPT_NAME", b"/ots/")]),
    http([(b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", b"/otsx"), (b"SCRIPT_NAME", b"/ots")]),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_TYPE", FORM),
          (b"CONTENT_LENGTH", b"12")], b"secret=hello"),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_TYPE", FORM),
          (b"CONTENT_LENGTH", b"12"), (b"_CHUNK", b"1")], b"secret=hello"),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_TYPE", FORM),
          (b"CONTENT_LENGTH", b"100"), (b"_FAIL", b"1")], b"secret=hello"),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_LENGTH", b"100")], b"short"),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_LENGTH", b"5")], b"secret=toolong"),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_LENGTH", b"99999999999")]),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_LENGTH", b"65537")]),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_LENGTH", b"-1")]),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_LENGTH", b"1x")], b"a"),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_LENGTH", b"")]),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_TYPE", b"application/json"),
          (b"CONTENT_LENGTH", b"18")], b'{"secret":"hello"}'),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"),
          (b"CONTENT_TYPE", b"multipart/form-data; boundary=b"), (b"CONTENT_LENGTH", b"64")],
         b'--b\r\nContent-Disposition: form-data; name="secret"\r\n\r\nhello\r\n--b--\r\n'),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"CONTENT_TYPE", b"text/plain"),
          (b"CONTENT_LENGTH", b"3")], b"abc"),
    http([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/api/v1/share"), (b"QUERY_STRING", b"secret=q&ttl=60"),
          (b"CONTENT_TYPE", FORM), (b"CONTENT_LENGTH", b"8")], b"secret=b"),
    http([(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/api/v1/status"), (b"QUERY_STRING", b"%zz")]),
    http([(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/api/v1/authcheck"),
          (b"HTTP_AUTHORIZATION", b"Basic " + b64(b"alice@example.com:tok"))]),
    http([(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/api/v1/authcheck"), (b"HTTP_AUTHORIZATION", b"")]),
    http([(b"REQUEST_METHOD", b"get"), (b"PATH_INFO", b"/")]), http([(b"REQUEST_METHOD", b"")]),
    http([(b"REQUEST_METHOD", b"ABCDEFGHIJKLMNOP"), (b"PATH_INFO", b"/")]), http([(b"PATH_INFO", b"/")]),
    http([(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/\xff\xfe")]),
    http([(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/" + b"a" * 1024)]),
    http([(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/" + b"a" * 1023)]),
    http([(b"REQUEST_METHOD", b"GET"), (b"HTTPS", b"on"), (b"REQUEST_SCHEME", b"https"), (b"HTTP_HOST", b"h"),
          (b"HTTP_ORIGIN", b"https://h"), (b"HTTP_SEC_FETCH_SITE", b"same-origin"), (b"REMOTE_ADDR", b"127.0.0.1"),
          (b"HTTP_X_FORWARDED_FOR", b"1.2.3.4"), (b"HTTP_USER_AGENT", b"curl/7.88")]),
    http([(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/"), (b"HTTP_USER_AGENT", b"evil\r\nSet-Cookie: x")]),
    b"", b"\n", b"REQUEST_METHOD=GET",
]

CORPORA = {
    "form_urlencoded": urlencoded, "form_multipart": multipart, "form_json": json, "route": route,
    "auth": auth, "keys": keys, "conf": conf, "mail": mail, "http": http_,
}


def main():
    for name, seeds in CORPORA.items():
        d = os.path.join(HERE, "corpus", name)
        os.makedirs(d, exist_ok=True)
        for i, s in enumerate(seeds):
            p = os.path.join(d, "seed-%03d" % i)
            if not os.path.exists(p):
                with open(p, "wb") as f:
                    f.write(s)
        print("%s: %d seeds" % (name, len(seeds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
