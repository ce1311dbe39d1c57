/* The vCard reader and writer without a server: versions 2.1, 3.0 and
 * 4.0, unfolding, quoted-printable, base64 and charsets, groups and
 * labels, escapes, NUL and control bytes, broken cards among good ones
 * and the lines their reasons name, the caps, writing then reading back
 * (Carta's own X-CARTA- fields too), folding of long UTF-8 lines, and
 * every file of the shared vCard samples accounted for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "import.h"
#include "vcard.h"

#define MAX_RECS 64

typedef struct {
	import_rec rec[MAX_RECS];
	size_t n;
	int last_rc;
	char err[256];
} recs;

static void drain(import_src *s, recs *r)
{
	memset(r, 0, sizeof *r);
	for (;;) {
		import_rec rec = {0};
		int rc =
		    import_vcard_reader.next(s, &rec, r->err, sizeof r->err);

		r->last_rc = rc;
		if (rc != 1)
			break;
		assert_true(r->n < MAX_RECS);
		r->rec[r->n++] = rec;
	}
	import_vcard_reader.close(s);
}

static void read_mem_opts(const char *text, const import_opts *o, recs *r)
{
	import_src *s = NULL;
	char err[256];

	assert_int_equal(
	    vcard_open_mem(text, strlen(text), o, &s, err, sizeof err), 0);
	drain(s, r);
	assert_int_equal(r->last_rc, 0);
}

static void read_mem(const char *text, recs *r)
{
	read_mem_opts(text, NULL, r);
}

/* For text that holds NUL bytes: len is the whole of it. */
static void read_mem_len(const char *text, size_t len, recs *r)
{
	import_src *s = NULL;
	char err[256];

	assert_int_equal(vcard_open_mem(text, len, NULL, &s, err, sizeof err),
			 0);
	drain(s, r);
	assert_int_equal(r->last_rc, 0);
}

static void free_recs(recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		import_rec_clear(&r->rec[i]);
	r->n = 0;
}

/* The card of record i, which must have one. */
static const Carta__V1__Card *card_at(const recs *r, size_t i)
{
	assert_true(i < r->n);
	if (r->rec[i].card == NULL)
		fail_msg("record %zu rejected: %s", i, r->rec[i].reason);
	return r->rec[i].card;
}

/* ---- Versions ------------------------------------------------------------ */

static void test_v21(void **state)
{
	recs r;
	const Carta__V1__Card *c;
	const Carta__V1__Contact *ct;

	(void)state;
	read_mem("BEGIN:VCARD\r\n"
		 "VERSION:2.1\r\n"
		 "N:Garc\xc3\xad"
		 "a L\xc3\xb3pez;Mar\xc3\xad"
		 "a;;Sra.;\r\n"
		 "FN:ignored when N has names\r\n"
		 "ORG:Acme;Sales\r\n"
		 "TEL;HOME:+34 911 111 111\r\n"
		 "TEL;CELL;PREF:600 111 222\r\n"
		 "EMAIL;INTERNET;WORK:maria@example.com\r\n"
		 "ADR;HOME:;;Calle Mayor 1;Madrid;Madrid;28013;Espa\xc3\xb1"
		 "a\r\n"
		 "BDAY:19800501\r\n"
		 "TITLE:architect\r\n"
		 "NOTE:prefers mornings\r\n"
		 "END:VCARD\r\n",
		 &r);
	assert_int_equal(r.n, 1);
	c = card_at(&r, 0);
	assert_int_equal(r.rec[0].line, 1);
	assert_null(r.rec[0].note);
	assert_string_equal(c->identity->family_name, "Garc\xc3\xad"
						      "a L\xc3\xb3pez");
	assert_string_equal(c->identity->given_name, "Mar\xc3\xad"
						     "a");
	assert_string_equal(c->identity->company, "Acme");
	ct = c->contact;
	assert_int_equal(ct->n_phones, 2);
	assert_string_equal(ct->phones[0]->number, "+34 911 111 111");
	assert_string_equal(ct->phones[0]->original, "+34 911 111 111");
	assert_string_equal(ct->phones[0]->label, "home");
	assert_false(ct->phones[0]->primary);
	assert_string_equal(ct->phones[1]->number, "600 111 222");
	assert_string_equal(ct->phones[1]->label, "mobile");
	assert_true(ct->phones[1]->primary);
	assert_int_equal(ct->n_emails, 1);
	assert_string_equal(ct->emails[0]->address, "maria@example.com");
	assert_string_equal(ct->emails[0]->label, "work");
	assert_true(ct->emails[0]->primary);
	assert_int_equal(ct->n_addresses, 1);
	assert_string_equal(ct->addresses[0]->street, "Calle Mayor 1");
	assert_string_equal(ct->addresses[0]->city, "Madrid");
	assert_string_equal(ct->addresses[0]->region, "Madrid");
	assert_string_equal(ct->addresses[0]->postal_code, "28013");
	assert_string_equal(ct->addresses[0]->country, "ES");
	assert_string_equal(ct->addresses[0]->label, "home");
	assert_true(ct->addresses[0]->primary);
	assert_string_equal(c->demographics->birth_date, "1980-05-01");
	assert_string_equal(c->demographics->profession, "architect");
	assert_int_equal(c->n_notes, 1);
	assert_string_equal(c->notes[0]->text, "prefers mornings");
	free_recs(&r);
}

static void test_v30(void **state)
{
	recs r;
	const Carta__V1__Card *c;
	const Carta__V1__Contact *ct;

	(void)state;
	read_mem("BEGIN:VCARD\n"
		 "VERSION:3.0\n"
		 "FN:Jean Paul Sartre\n"
		 "EMAIL;TYPE=INTERNET:first@example.com\n"
		 "EMAIL;TYPE=INTERNET,HOME,PREF:second@example.com\n"
		 "TEL;TYPE=\"work,voice\":+33 1 23 45 67 89\n"
		 "TEL;TYPE=FAX,WORK:+33 1 23 45 67 00\n"
		 "ADR;TYPE=WORK:;Suite 2;1 Rue de Rivoli;Paris;;75001;"
		 "France\n"
		 "ADR:;;Hauptstr. 5;Berlin;;10115;DE\n"
		 "ADR:;;Main St 1;Springfield;;12345;Atlantis\n"
		 "BDAY:1905-06-21\n"
		 "ROLE:philosopher\n"
		 "UID:urn:uuid:0b3e1c6a-1111-2222-3333-444455556666\n"
		 "END:VCARD\n",
		 &r);
	assert_int_equal(r.n, 1);
	c = card_at(&r, 0);
	assert_string_equal(c->identity->given_name, "Jean Paul");
	assert_string_equal(c->identity->family_name, "Sartre");
	assert_string_equal(c->identity->external_id,
			    "0b3e1c6a-1111-2222-3333-444455556666");
	ct = c->contact;
	assert_int_equal(ct->n_emails, 2);
	assert_false(ct->emails[0]->primary);
	assert_string_equal(ct->emails[0]->label, "");
	assert_true(ct->emails[1]->primary);
	assert_string_equal(ct->emails[1]->label, "home");
	assert_string_equal(ct->phones[0]->label, "work");
	assert_true(ct->phones[0]->primary);
	assert_string_equal(ct->phones[1]->label, "fax");
	assert_int_equal(ct->n_addresses, 3);
	assert_string_equal(ct->addresses[0]->street,
			    "1 Rue de Rivoli, Suite 2");
	assert_string_equal(ct->addresses[0]->country, "FR");
	assert_string_equal(ct->addresses[0]->label, "work");
	assert_string_equal(ct->addresses[1]->country, "DE");
	/* A country we cannot name goes to the region, with a note. */
	assert_string_equal(ct->addresses[2]->country, "");
	assert_string_equal(ct->addresses[2]->region, "Atlantis");
	assert_string_equal(r.rec[0].note, "ADR country kept in region");
	assert_string_equal(c->demographics->birth_date, "1905-06-21");
	assert_string_equal(c->demographics->profession, "philosopher");
	free_recs(&r);
}

static void test_v40(void **state)
{
	recs r;
	const Carta__V1__Card *c;
	const Carta__V1__Contact *ct;

	(void)state;
	read_mem(
	    "BEGIN:VCARD\r\n"
	    "VERSION:4.0\r\n"
	    "FN:Simon Perreault\r\n"
	    "N:Perreault;Simon;;;ing. jr\\,M.Sc.\r\n"
	    "BDAY:--0203\r\n"
	    "GENDER:F;woman\r\n"
	    "LANG;PREF=2:en\r\n"
	    "LANG;PREF=1:fr\r\n"
	    "TEL;VALUE=uri;TYPE=\"work,voice\";PREF=2:"
	    "tel:+1-418-656-9254;ext=102\r\n"
	    "TEL;VALUE=uri;TYPE=\"work,cell\";PREF=1:tel:+1-418-262-6501\r\n"
	    "EMAIL;TYPE=work:simon@example.ca\r\n"
	    "X-CARTA-NUMBER:C-000042\r\n"
	    "END:VCARD\r\n",
	    &r);
	assert_int_equal(r.n, 1);
	c = card_at(&r, 0);
	assert_string_equal(c->identity->family_name, "Perreault");
	assert_string_equal(c->identity->given_name, "Simon");
	assert_string_equal(c->identity->number, "C-000042");
	assert_string_equal(c->demographics->gender, "f");
	assert_string_equal(c->demographics->language, "fr");
	/* No year: left out and noted. */
	assert_string_equal(c->demographics->birth_date, "");
	assert_string_equal(r.rec[0].note, "BDAY without year left out");
	ct = c->contact;
	assert_int_equal(ct->n_phones, 2);
	assert_string_equal(ct->phones[0]->number, "+1-418-656-9254 ext 102");
	assert_false(ct->phones[0]->primary);
	assert_string_equal(ct->phones[1]->number, "+1-418-262-6501");
	assert_string_equal(ct->phones[1]->label, "mobile");
	assert_true(ct->phones[1]->primary);
	assert_string_equal(ct->emails[0]->label, "work");
	/* Carta's export (X-CARTA-NUMBER) marks every primary with PREF:
	 * an email without it is not primary. */
	assert_false(ct->emails[0]->primary);
	free_recs(&r);
}

/* ---- Lines and encodings ---------------------------------------------- */

static void test_folding(void **state)
{
	recs r;
	const Carta__V1__Card *c;

	(void)state;
	read_mem("BEGIN:VCARD\r\n"
		 "VERSION:3.0\r\n"
		 "N:Lovelace;Ada Aug\r\n"
		 " usta\r\n"
		 "NOTE:first part\r\n"
		 "\t and the second\n"
		 "  with a kept space\r\n"
		 "EMAIL;TYPE=\r\n"
		 " work:ada@example.org\r\n"
		 "END:VCARD\r\n",
		 &r);
	c = card_at(&r, 0);
	assert_string_equal(c->identity->given_name, "Ada Augusta");
	assert_string_equal(c->notes[0]->text,
			    "first part and the second with a kept space");
	assert_string_equal(c->contact->emails[0]->address, "ada@example.org");
	assert_string_equal(c->contact->emails[0]->label, "work");
	free_recs(&r);

	/* Lone CRs (old Macs) and CR CR LF (some iPhone exports). */
	read_mem("\rBEGIN:VCARD\rFN:Mac User\rEND:VCARD\r"
		 "BEGIN:VCARD\r\r\nFN:Phone User\r\r\n"
		 "EMAIL:p@example.com\r\r\nEND:VCARD\r\r\n",
		 &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rec[0].line, 2);
	assert_string_equal(card_at(&r, 0)->identity->family_name, "User");
	assert_string_equal(card_at(&r, 0)->identity->given_name, "Mac");
	assert_int_equal(r.rec[1].line, 5);
	assert_string_equal(card_at(&r, 1)->contact->emails[0]->address,
			    "p@example.com");
	free_recs(&r);
}

static void test_quoted_printable(void **state)
{
	recs r;
	const Carta__V1__Card *c;

	(void)state;
	read_mem(
	    "BEGIN:VCARD\r\n"
	    "VERSION:2.1\r\n"
	    "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=\r\n"
	    "=FCrgen\r\n"
	    "NOTE;QUOTED-PRINTABLE;CHARSET=UTF-8:caf=C3=A9 =3D good=0A=\r\n"
	    "second line\r\n"
	    "ORG;CHARSET=windows-1252;ENCODING=QUOTED-PRINTABLE:=80uro "
	    "GmbH\r\n"
	    "TITLE;CHARSET=SHIFT_JIS:\x83\x8d\x83\x43\x83\x68\r\n"
	    "END:VCARD\r\n",
	    &r);
	c = card_at(&r, 0);
	assert_string_equal(c->identity->family_name, "M\xc3\xbcller");
	assert_string_equal(c->identity->given_name, "J\xc3\xbcrgen");
	assert_string_equal(c->notes[0]->text,
			    "caf\xc3\xa9 = good\nsecond line");
	assert_string_equal(c->identity->company, "\xe2\x82\xacuro GmbH");
	assert_string_equal(c->demographics->profession,
			    "\xe3\x83\xad\xe3\x82\xa4\xe3\x83\x89");
	free_recs(&r);
}

/* Without CHARSET a value must be UTF-8: the card is rejected with its
 * line, never garbled; --encoding names the charset instead. */
static void test_charset_missing(void **state)
{
	static const char text[] =
	    "BEGIN:VCARD\n"
	    "VERSION:2.1\n"
	    "N;ENCODING=QUOTED-PRINTABLE:Iksi=F1ski;Piotr\n"
	    "END:VCARD\n"
	    "BEGIN:VCARD\n"
	    "FN:Ok Card\n"
	    "END:VCARD\n";
	import_opts o = {.encoding = "ISO-8859-2"};
	recs r;

	(void)state;
	read_mem(text, &r);
	assert_int_equal(r.n, 2);
	assert_null(r.rec[0].card);
	assert_int_equal(r.rec[0].line, 1);
	assert_string_equal(r.rec[0].reason,
			    "line 3: N: not valid UTF-8 (give CHARSET or "
			    "--encoding)");
	assert_string_equal(card_at(&r, 1)->identity->family_name, "Card");
	free_recs(&r);

	read_mem_opts(text, &o, &r);
	assert_string_equal(card_at(&r, 0)->identity->family_name,
			    "Iksi\xc5\x84ski");
	free_recs(&r);

	read_mem("BEGIN:VCARD\nN;CHARSET=NO-SUCH-SET:x\nEND:VCARD\n", &r);
	assert_string_equal(r.rec[0].reason,
			    "line 2: N: unknown charset (CHARSET=NO-SUCH-SET)");
	free_recs(&r);
}

static void test_utf16_file(void **state)
{
	/* "BEGIN:VCARD\nFN:\u00c5sa Berg\nEND:VCARD\n" in UTF-16LE with a
	 * BOM. */
	const char *text = "BEGIN:VCARD\nFN:\xc3\x85sa Berg\nEND:VCARD\n";
	unsigned char wide[256];
	size_t n = 0;
	import_src *s;
	char err[256];
	recs r;

	(void)state;
	wide[n++] = 0xFF;
	wide[n++] = 0xFE;
	for (const char *p = text; *p != '\0'; p++) {
		if ((unsigned char)*p == 0xC3) {
			wide[n++] = 0xC5; /* U+00C5 */
			wide[n++] = 0;
			p++;
			continue;
		}
		wide[n++] = (unsigned char)*p;
		wide[n++] = 0;
	}
	assert_int_equal(vcard_open_mem(wide, n, NULL, &s, err, sizeof err), 0);
	drain(s, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(card_at(&r, 0)->identity->given_name, "\xc3\x85sa");
	free_recs(&r);
}

static void test_groups(void **state)
{
	recs r;
	const Carta__V1__Contact *ct;

	(void)state;
	read_mem("BEGIN:VCARD\r\n"
		 "VERSION:3.0\r\n"
		 "N:Doe;John;;;\r\n"
		 "item1.EMAIL;type=INTERNET:john@example.com\r\n"
		 "item1.X-ABLabel:_$!<Other>!$_\r\n"
		 "item2.X-ABLabel:Boat\r\n"
		 "item2.TEL;type=CELL:+1 555 0101\r\n"
		 "item3.ADR;type=HOME:;;1 Main St;Town;;111;USA\r\n"
		 "item3.X-ABLabel:Summer\\, house\r\n"
		 "TEL;type=HOME:+1 555 0102\r\n"
		 "END:VCARD\r\n",
		 &r);
	ct = card_at(&r, 0)->contact;
	assert_string_equal(ct->emails[0]->label, "other");
	assert_string_equal(ct->phones[0]->label, "Boat");
	assert_string_equal(ct->phones[1]->label, "home");
	assert_string_equal(ct->addresses[0]->label, "Summer, house");
	assert_string_equal(ct->addresses[0]->country, "US");
	free_recs(&r);
}

static void test_escapes(void **state)
{
	recs r;
	const Carta__V1__Card *c;

	(void)state;
	read_mem("BEGIN:VCARD\n"
		 "VERSION:3.0\n"
		 "N:O\\,Neil\\;Smith;Ann\\\\Marie;;;\n"
		 "ORG:Smith\\, Jones & Co\\;Ltd;Dept\n"
		 "NOTE:one\\ntwo\\Nthree\\\\four\\,five\\;six\n"
		 "ADR:;;Flat 2\\nHigh St 5;Leeds;;LS1;United Kingdom\n"
		 "END:VCARD\n",
		 &r);
	c = card_at(&r, 0);
	assert_string_equal(c->identity->family_name, "O,Neil;Smith");
	assert_string_equal(c->identity->given_name, "Ann\\Marie");
	assert_string_equal(c->identity->company, "Smith, Jones & Co;Ltd");
	assert_string_equal(c->notes[0]->text,
			    "one\ntwo\nthree\\four,five;six");
	assert_string_equal(c->contact->addresses[0]->street,
			    "Flat 2\nHigh St 5");
	assert_string_equal(c->contact->addresses[0]->country, "GB");
	free_recs(&r);
}

/* ---- Bytes no text may hold ------------------------------------------ */

/* A NUL cut values short when read as C strings: the card is rejected
 * with the line and column of the byte, and its neighbour still read. */
static void test_nul_rejected(void **state)
{
	static const char text[] = "BEGIN:VCARD\r\n"		  /* 1 */
				   "VERSION:3.0\r\n"		  /* 2 */
				   "FN:Nul Test\r\n"		  /* 3 */
				   "N:Nu\0lfam;Nulgiv\0en;;;\r\n" /* 4 */
				   "EMAIL:nul1@example.com\r\n"	  /* 5 */
				   "NOTE:before\0after\r\n"	  /* 6 */
				   "END:VCARD\r\n"		  /* 7 */
				   "BEGIN:VCARD\r\n"		  /* 8 */
				   "VERSION:3.0\r\n"		  /* 9 */
				   "FN:Next Card\r\n"		  /* 10 */
				   "EMAIL:nul2@example.com\r\n"	  /* 11 */
				   "END:VCARD\r\n";		  /* 12 */
	static const char utf8[] = "BEGIN:VCARD\n"
				   "N:M\xc3\xbcller\0;Anna\n"
				   "END:VCARD\n";
	static const char ctrl[] = "BEGIN:VCARD\n"
				   "N:Ab\x01"
				   "c;D\n"
				   "END:VCARD\n";
	static const char outside[] = "\0\0\n"
				      "BEGIN:VCARD\n"
				      "FN:After Nul\n"
				      "END:VCARD\n";
	static const char marker[] = "BEGIN:VCARD\n"
				     "FN:Cut Short\n"
				     "END:VCARD\0\n"
				     "END:VCARD\n"
				     "BEGIN:VCARD\n"
				     "FN:Whole Card\n"
				     "END:VCARD\n";
	recs r;

	(void)state;
	read_mem_len(text, sizeof text - 1, &r);
	assert_int_equal(r.n, 2);
	assert_null(r.rec[0].card);
	assert_int_equal(r.rec[0].line, 1);
	assert_string_equal(r.rec[0].reason,
			    "line 4, column 5: N: NUL byte, which no text may "
			    "hold");
	assert_int_equal(r.rec[1].line, 8);
	assert_string_equal(card_at(&r, 1)->identity->family_name, "Card");
	assert_string_equal(card_at(&r, 1)->contact->emails[0]->address,
			    "nul2@example.com");
	free_recs(&r);

	/* Columns count characters: "M\xc3\xbc" is two. */
	read_mem_len(utf8, sizeof utf8 - 1, &r);
	assert_string_equal(r.rec[0].reason,
			    "line 2, column 9: N: NUL byte, which no text may "
			    "hold");
	free_recs(&r);

	/* Any control character but tab is no text either. */
	read_mem_len(ctrl, sizeof ctrl - 1, &r);
	assert_string_equal(r.rec[0].reason,
			    "line 2, column 5: N: control character 0x01, "
			    "which no text may hold");
	free_recs(&r);

	/* Outside a card a NUL line is no blank line to skip. */
	read_mem_len(outside, sizeof outside - 1, &r);
	assert_int_equal(r.n, 2);
	assert_null(r.rec[0].card);
	assert_string_equal(r.rec[0].reason,
			    "line 1, column 1: NUL byte outside a card");
	assert_string_equal(card_at(&r, 1)->identity->family_name, "Nul");
	free_recs(&r);

	/* "END:VCARD" then a NUL ends no card: the card is rejected at the
	 * NUL, and the next END:VCARD closes it. */
	read_mem_len(marker, sizeof marker - 1, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.rec[0].reason,
			    "line 3, column 10: END: NUL byte, which no text "
			    "may hold");
	assert_string_equal(card_at(&r, 1)->identity->given_name, "Whole");
	free_recs(&r);
}

/* A NUL or control character that decoding brings is refused as well:
 * quoted-printable (with and without a charset) and base64, which the
 * reader decodes for the properties it keeps. */
static void test_decoded_nul_rejected(void **state)
{
	recs r;

	(void)state;
	read_mem("BEGIN:VCARD\r\n"					/* 1 */
		 "VERSION:2.1\r\n"					/* 2 */
		 "N:Qp;Plain\r\n"					/* 3 */
		 "NOTE;ENCODING=QUOTED-PRINTABLE:before=00after\r\n"	/* 4 */
		 "END:VCARD\r\n"					/* 5 */
		 "BEGIN:VCARD\r\n"					/* 6 */
		 "VERSION:2.1\r\n"					/* 7 */
		 "N:Qp;Latin\r\n"					/* 8 */
		 "NOTE;CHARSET=ISO-8859-1;QUOTED-PRINTABLE:caf=E9=\r\n" /* 9 */
		 "=00\r\n"						/* 10 */
		 "END:VCARD\r\n"					/* 11 */
		 "BEGIN:VCARD\r\n"					/* 12 */
		 "VERSION:3.0\r\n"					/* 13 */
		 "N:B64;Nul\r\n"					/* 14 */
		 "NOTE;ENCODING=b:YmVmb3JlAGFmdGVy\r\n"			/* 15 */
		 "END:VCARD\r\n"					/* 16 */
		 "BEGIN:VCARD\r\n"					/* 17 */
		 "VERSION:3.0\r\n"					/* 18 */
		 "N:Qp;Control\r\n"					/* 19 */
		 "NOTE;ENCODING=QUOTED-PRINTABLE:form=0Cfeed\r\n"	/* 20 */
		 "END:VCARD\r\n"					/* 21 */
		 "BEGIN:VCARD\r\n"					/* 22 */
		 "VERSION:3.0\r\n"					/* 23 */
		 "N:B64;Good\r\n"					/* 24 */
		 "NOTE;ENCODING=b:Y2Fmw6kK\r\n"				/* 25 */
		 " IGxpbmUgdHdv\r\n"					/* 26 */
		 "ORG;ENCODING=b:not*base64\r\n"			/* 27 */
		 "END:VCARD\r\n"					/* 28 */
		 "BEGIN:VCARD\r\n"					/* 29 */
		 "VERSION:3.0\r\n"					/* 30 */
		 "N:B64;Good\r\n"					/* 31 */
		 "NOTE;ENCODING=b:Y2Fmw6kK\r\n"				/* 32 */
		 " IGxpbmUgdHdv\r\n"					/* 33 */
		 "END:VCARD\r\n",					/* 34 */
		 &r);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.rec[0].reason,
			    "line 4: NOTE: NUL byte in the decoded value, "
			    "which no text may hold");
	/* The property's line, where it starts. */
	assert_int_equal(r.rec[1].line, 6);
	assert_string_equal(r.rec[1].reason,
			    "line 9: NOTE: NUL byte in the decoded value, "
			    "which no text may hold");
	assert_string_equal(r.rec[2].reason,
			    "line 15: NOTE: NUL byte in the decoded value, "
			    "which no text may hold");
	assert_string_equal(r.rec[3].reason,
			    "line 20: NOTE: control character 0x0C in the "
			    "decoded value, which no text may hold");
	assert_string_equal(r.rec[4].reason, "line 27: ORG: not valid base64");
	assert_string_equal(card_at(&r, 5)->notes[0]->text,
			    "caf\xc3\xa9\n line two");
	free_recs(&r);
}

/* A reason names the line of the property at fault, not the card's
 * first line (which stays the record's): the physical line of a bad byte
 * in a folded value, the property's own line for what decoding finds. */
static void test_reason_names_property_line(void **state)
{
	static const char text[] =
	    "BEGIN:VCARD\r\n"			  /* 1 */
	    "VERSION:3.0\r\n"			  /* 2 */
	    "N:Fold;Ed\r\n"			  /* 3 */
	    "NOTE:a long note\r\n"		  /* 4 */
	    "  that goes on\r\n"		  /* 5 */
	    " and o\0n\r\n"			  /* 6 */
	    "END:VCARD\r\n"			  /* 7 */
	    "BEGIN:VCARD\r\n"			  /* 8 */
	    "VERSION:2.1\r\n"			  /* 9 */
	    "N:Soft;Break\r\n"			  /* 10 */
	    "NOTE;QUOTED-PRINTABLE:one=\r\n"	  /* 11 */
	    "tw\0o\r\n"				  /* 12 */
	    "END:VCARD\r\n"			  /* 13 */
	    "BEGIN:VCARD\r\n"			  /* 14 */
	    "VERSION:2.1\r\n"			  /* 15 */
	    "N:Tel;Line\r\n"			  /* 16 */
	    "EMAIL:tel@example.com\r\n"		  /* 17 */
	    "ORG:Acme\r\n"			  /* 18 */
	    "TITLE:buyer\r\n"			  /* 19 */
	    "NOTE:fine\r\n"			  /* 20 */
	    "TEL;ENCODING=QUOTED-PRINTABLE:=\r\n" /* 21 */
	    "+34 600=00111 222\r\n"		  /* 22 */
	    "END:VCARD\r\n";			  /* 23 */
	recs r;

	(void)state;
	read_mem_len(text, sizeof text - 1, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.rec[0].line, 1);
	assert_string_equal(r.rec[0].reason,
			    "line 6, column 7: NOTE: NUL byte, which no text "
			    "may hold");
	assert_int_equal(r.rec[1].line, 8);
	assert_string_equal(r.rec[1].reason,
			    "line 12, column 3: NOTE: NUL byte, which no text "
			    "may hold");
	assert_int_equal(r.rec[2].line, 14);
	assert_string_equal(
	    r.rec[2].reason,
	    "line 21: TEL: NUL byte in the decoded value, which "
	    "no text may hold");
	free_recs(&r);
}

/* ---- Broken cards among good ones -------------------------------------- */

static void test_broken_among_good(void **state)
{
	recs r;

	(void)state;
	read_mem("BEGIN:VCARD\n"		   /* 1 */
		 "VERSION:3.0\n"		   /* 2 */
		 "N:One;Anna\n"			   /* 3 */
		 "EMAIL:anna@example.com\n"	   /* 4 */
		 "END:VCARD\n"			   /* 5 */
		 "\n"				   /* 6 */
		 "BEGIN:VCARD\n"		   /* 7 */
		 "VERSION:3.0\n"		   /* 8 */
		 "N:Two;Bob\n"			   /* 9 */
		 "this is not a property\n"	   /* 10 */
		 "TEL:1\n"			   /* 11 */
		 "END:VCARD\n"			   /* 12 */
		 "BEGIN:VCARD\n"		   /* 13 */
		 "VERSION:3.0\n"		   /* 14 */
		 "N:Three;Carl\n"		   /* 15 */
		 "TEL;TYPE=cell:+44 7700 900123\n" /* 16 */
		 "END:VCARD\n",			   /* 17 */
		 &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.rec[0].line, 1);
	assert_string_equal(card_at(&r, 0)->identity->family_name, "One");
	assert_string_equal(card_at(&r, 0)->contact->emails[0]->address,
			    "anna@example.com");
	assert_null(r.rec[1].card);
	assert_int_equal(r.rec[1].line, 7);
	assert_string_equal(r.rec[1].reason,
			    "line 10: not a property: 'this is not a "
			    "property'");
	assert_int_equal(r.rec[2].line, 13);
	assert_string_equal(card_at(&r, 2)->identity->given_name, "Carl");
	assert_string_equal(card_at(&r, 2)->contact->phones[0]->number,
			    "+44 7700 900123");
	free_recs(&r);
}

static void test_structure_errors(void **state)
{
	recs r;

	(void)state;
	/* Nested BEGIN: the outer card is rejected, the inner one read. */
	read_mem("BEGIN:VCARD\nN:Outer\nBEGIN:VCARD\nN:Inner\nEND:VCARD\n"
		 "END:VCARD\n"
		 "BEGIN:VCARD\nN:Last\n",
		 &r);
	assert_int_equal(r.n, 4);
	assert_null(r.rec[0].card);
	assert_string_equal(r.rec[0].reason,
			    "line 3: BEGIN:VCARD inside a card");
	assert_int_equal(r.rec[1].line, 3);
	assert_string_equal(card_at(&r, 1)->identity->family_name, "Inner");
	assert_null(r.rec[2].card);
	assert_int_equal(r.rec[2].line, 6);
	assert_string_equal(r.rec[2].reason,
			    "line 6: END:VCARD without BEGIN:VCARD");
	assert_null(r.rec[3].card);
	assert_int_equal(r.rec[3].line, 7);
	assert_string_equal(r.rec[3].reason,
			    "line 7: BEGIN:VCARD without END:VCARD");
	free_recs(&r);

	/* Nothing to know the customer by. */
	read_mem("BEGIN:VCARD\nVERSION:4.0\nNOTE:who?\nEND:VCARD\n"
		 "FN:stray\n",
		 &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.rec[0].reason,
			    "line 1: no name, email, phone or organisation");
	assert_string_equal(r.rec[1].reason, "line 5: text outside a card");
	free_recs(&r);
}

static void test_photo_skipped(void **state)
{
	recs r;

	(void)state;
	read_mem("BEGIN:VCARD\r\n"
		 "VERSION:2.1\r\n"
		 "N:Pic;Ture\r\n"
		 "PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQ\r\n"
		 "ABAAD/4QBYRXhpZgAATU0AKgAAAAgAAgESAAMAAAABAAEAAIdpAAQA\r\n"
		 "AAABAAAAJgAAAAAAA6ABAAMAAAABAAEAAKACAAQAAAABAAABQKAD==\r\n"
		 "\r\n"
		 "TEL:123\r\n"
		 "END:VCARD\r\n"
		 "BEGIN:VCARD\r\n"
		 "VERSION:3.0\r\n"
		 "FN:Logo Owner\r\n"
		 "LOGO;ENCODING=b;TYPE=PNG:iVBORw0KGgo\r\n"
		 " AAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n"
		 "KEY;ENCODING=b:AA==\r\n"
		 "END:VCARD\r\n",
		 &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(card_at(&r, 0)->contact->phones[0]->number, "123");
	assert_string_equal(r.rec[0].note, "PHOTO skipped");
	assert_string_equal(card_at(&r, 1)->identity->given_name, "Logo");
	assert_string_equal(r.rec[1].note, "LOGO skipped; KEY skipped");
	free_recs(&r);
}

/* Past a cap the card is rejected and the next one still read. */
static void test_caps(void **state)
{
	size_t big = VCARD_LINE_MAX + 100, n = 0;
	char *text = malloc(big + 20 * VCARD_PROPS_MAX + 200);
	recs r;

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text + n, "BEGIN:VCARD\nNOTE:");
	memset(text + n, 'x', big);
	n += big;
	n += (size_t)sprintf(text + n, "\nEND:VCARD\nBEGIN:VCARD\n");
	for (int i = 0; i <= VCARD_PROPS_MAX; i++)
		n += (size_t)sprintf(text + n, "TEL:%d\n", i);
	n += (size_t)sprintf(text + n, "END:VCARD\n"
				       "BEGIN:VCARD\nN:After\nEND:VCARD\n");
	text[n] = '\0';
	read_mem(text, &r);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.rec[0].reason,
			    "line 2: line longer than 1048576 octets");
	assert_string_equal(r.rec[1].reason,
			    "line 1005: more than 1000 properties");
	assert_string_equal(card_at(&r, 2)->identity->family_name, "After");
	free_recs(&r);
	free(text);
}

/* ---- Writing ----------------------------------------------------------- */

static char *write_card(const Carta__V1__Card *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(vcard_write(f, c), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_write_read_back(void **state)
{
	Carta__V1__Card card = CARTA__V1__CARD__INIT;
	Carta__V1__Identity id = CARTA__V1__IDENTITY__INIT;
	Carta__V1__Contact ct = CARTA__V1__CONTACT__INIT;
	Carta__V1__Demographics dm = CARTA__V1__DEMOGRAPHICS__INIT;
	Carta__V1__Email e[2] = {CARTA__V1__EMAIL__INIT,
				 CARTA__V1__EMAIL__INIT},
			 *ep[2] = {&e[0], &e[1]};
	Carta__V1__Phone p[3] = {CARTA__V1__PHONE__INIT, CARTA__V1__PHONE__INIT,
				 CARTA__V1__PHONE__INIT},
			 *pp[3] = {&p[0], &p[1], &p[2]};
	Carta__V1__Address a = CARTA__V1__ADDRESS__INIT, *ap[1] = {&a};
	Carta__V1__Note n[2] = {CARTA__V1__NOTE__INIT, CARTA__V1__NOTE__INIT},
			*np[2] = {&n[0], &n[1]};
	const Carta__V1__Card *b;
	char *text;
	size_t len;
	recs r;

	(void)state;
	id.number = "C-000001";
	id.given_name = "Mar\xc3\xad"
			"a Jos\xc3\xa9";
	id.family_name = "Garc\xc3\xad"
			 "a, L\xc3\xb3pez";
	id.company = "Acme; Hermanos";
	id.external_id = "crm:42";
	e[0].address = "maria@example.com";
	e[0].label = "work";
	e[1].address = "mj@example.org";
	e[1].label = "private mail";
	e[1].primary = true;
	ct.n_emails = 2;
	ct.emails = ep;
	p[0].number = "+34600111222";
	p[0].original = "600 111 222";
	p[0].label = "mobile";
	p[0].primary = true;
	p[1].number = "+34911111111";
	p[1].original = "91 111 11 11";
	p[1].label = "home";
	p[2].original = "ask at the desk";
	p[2].label = "desk";
	ct.n_phones = 3;
	ct.phones = pp;
	a.street = "Calle Mayor 1\n3\xc2\xba izquierda";
	a.city = "Madrid";
	a.postal_code = "28013";
	a.region = "Comunidad de Madrid";
	a.country = "ES";
	a.label = "home";
	a.primary = true;
	ct.n_addresses = 1;
	ct.addresses = ap;
	dm.birth_date = "1980-05-01";
	dm.gender = "f";
	dm.profession = "architect";
	dm.language = "es";
	n[0].text = "prefers mornings, not Mondays; \\ ok";
	n[1].text = "second\nnote";
	card.identity = &id;
	card.contact = &ct;
	card.demographics = &dm;
	card.n_notes = 2;
	card.notes = np;

	text = write_card(&card, &len);
	assert_non_null(strstr(text, "BEGIN:VCARD\r\nVERSION:4.0\r\n"));
	/* What was typed goes in a parameter (folded here at 75 octets). */
	assert_non_null(strstr(text, "\r\nTEL;TYPE=cell;VALUE=uri;PREF=1;"
				     "X-CARTA-ORIGINAL=\"600 111 222\":"
				     "tel:+34600111\r\n 222\r\n"));
	assert_non_null(strstr(text, "\r\nEMAIL;TYPE=work:maria@example.com"
				     "\r\n"));
	assert_non_null(strstr(text, "\r\nBDAY:19800501\r\n"));
	assert_non_null(strstr(text, "\r\nGENDER:F\r\n"));
	assert_non_null(strstr(text, "\r\nORG:Acme\\; Hermanos\r\n"));
	assert_non_null(strstr(text, "\r\nX-CARTA-NUMBER:C-000001\r\n"));
	assert_non_null(strstr(text, "\r\nEND:VCARD\r\n"));
	read_mem(text, &r);
	free(text);
	assert_int_equal(r.n, 1);
	b = card_at(&r, 0);
	assert_null(r.rec[0].note);

	assert_string_equal(b->identity->number, "C-000001");
	assert_string_equal(b->identity->given_name, id.given_name);
	assert_string_equal(b->identity->family_name, id.family_name);
	assert_string_equal(b->identity->company, id.company);
	assert_string_equal(b->identity->external_id, "crm:42");
	assert_int_equal(b->contact->n_emails, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(b->contact->emails[i]->address,
				    e[i].address);
		assert_string_equal(b->contact->emails[i]->label, e[i].label);
		assert_int_equal(b->contact->emails[i]->primary, e[i].primary);
	}
	assert_int_equal(b->contact->n_phones, 3);
	/* A normalised number is written as tel:E164, what was typed in
	 * X-CARTA-ORIGINAL; both read back. */
	assert_string_equal(b->contact->phones[0]->number, "+34600111222");
	assert_string_equal(b->contact->phones[0]->original, "600 111 222");
	assert_string_equal(b->contact->phones[1]->number, "+34911111111");
	assert_string_equal(b->contact->phones[1]->original, "91 111 11 11");
	assert_string_equal(b->contact->phones[2]->number, "ask at the desk");
	assert_string_equal(b->contact->phones[2]->original, "ask at the desk");
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(b->contact->phones[i]->label, p[i].label);
		assert_int_equal(b->contact->phones[i]->primary, p[i].primary);
	}
	assert_int_equal(b->contact->n_addresses, 1);
	assert_string_equal(b->contact->addresses[0]->street, a.street);
	assert_string_equal(b->contact->addresses[0]->city, a.city);
	assert_string_equal(b->contact->addresses[0]->postal_code,
			    a.postal_code);
	assert_string_equal(b->contact->addresses[0]->region, a.region);
	assert_string_equal(b->contact->addresses[0]->country, "ES");
	assert_string_equal(b->contact->addresses[0]->label, "home");
	assert_true(b->contact->addresses[0]->primary);
	assert_string_equal(b->demographics->birth_date, "1980-05-01");
	assert_string_equal(b->demographics->gender, "f");
	assert_string_equal(b->demographics->profession, "architect");
	assert_string_equal(b->demographics->language, "es");
	assert_int_equal(b->n_notes, 2);
	assert_string_equal(b->notes[0]->text, n[0].text);
	assert_string_equal(b->notes[1]->text, n[1].text);
	free_recs(&r);

	/* Only what the card carries: no contact, no demographics. */
	card.contact = NULL;
	card.demographics = NULL;
	card.n_notes = 0;
	id.external_id = "";
	text = write_card(&card, &len);
	assert_string_equal(text, "BEGIN:VCARD\r\n"
				  "VERSION:4.0\r\n"
				  "FN:Mar\xc3\xad"
				  "a Jos\xc3\xa9 Garc\xc3\xad"
				  "a\\, "
				  "L\xc3\xb3pez\r\n"
				  "N:Garc\xc3\xad"
				  "a\\, L\xc3\xb3pez;Mar\xc3\xad"
				  "a Jos\xc3\xa9;;;\r\n"
				  "ORG:Acme\\; Hermanos\r\n"
				  "X-CARTA-NUMBER:C-000001\r\n"
				  "END:VCARD\r\n");
	free(text);
}

/* text without its folds (CRLF and a space), in place. */
static char *unfold(char *text)
{
	char *w = text;

	for (const char *r = text; *r != '\0'; r++) {
		if (r[0] == '\r' && r[1] == '\n' && r[2] == ' ') {
			r += 2;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	return text;
}

/* What only Carta's cards hold comes back: status, home branch, custom
 * values and what was typed for each phone. */
static void test_write_read_back_carta(void **state)
{
	static const char *const statuses[] = {"prospect", "inactive",
					       "archived", "active"};
	Carta__V1__Card card = CARTA__V1__CARD__INIT;
	Carta__V1__Identity id = CARTA__V1__IDENTITY__INIT;
	Carta__V1__Contact ct = CARTA__V1__CONTACT__INIT;
	Carta__V1__Phone p[3] = {CARTA__V1__PHONE__INIT, CARTA__V1__PHONE__INIT,
				 CARTA__V1__PHONE__INIT},
			 *pp[3] = {&p[0], &p[1], &p[2]};
	Carta__V1__CustomValue cv[3] = {CARTA__V1__CUSTOM_VALUE__INIT,
					CARTA__V1__CUSTOM_VALUE__INIT,
					CARTA__V1__CUSTOM_VALUE__INIT},
			       *cvp[3] = {&cv[0], &cv[1], &cv[2]};
	const Carta__V1__Card *b;
	char *text;
	size_t len;
	recs r;

	(void)state;
	id.number = "C-000007";
	id.given_name = "Ana";
	id.family_name = "Ruiz";
	id.home_branch = "MAD-Centro";
	p[0].number = "+34600111222";
	p[0].original = "(+34) 600 \"111\" 222, ^ext; 9";
	p[0].label = "mobile";
	p[0].primary = true;
	p[1].number = "+34911111111";
	p[1].original = "+34911111111"; /* typed as stored: no parameter */
	p[1].label = "desk phone";
	p[2].number = "+34922222222";
	p[2].original = "922 22 22 22";
	ct.n_phones = 3;
	ct.phones = pp;
	cv[0].field = "loyalty_tier";
	cv[0].value = "gold";
	cv[0].section = CARTA__V1__SECTION__SECTION_PREFERENCES;
	cv[1].field = "nickname";
	cv[1].value = "La \"Jefa\"; of, all\\ \xc3\xa1";
	cv[1].section = CARTA__V1__SECTION__SECTION_IDENTITY;
	cv[2].field = "empty_one"; /* no value: nothing to write */
	card.identity = &id;
	card.contact = &ct;
	card.n_custom = 3;
	card.custom = cvp;

	for (size_t k = 0; k < sizeof statuses / sizeof statuses[0]; k++) {
		id.status = (char *)statuses[k];
		text = unfold(write_card(&card, &len));
		assert_non_null(strstr(text,
				       "\r\nX-CARTA-HOME-BRANCH:MAD-Centro"
				       "\r\n"));
		assert_non_null(strstr(text, "\r\nX-CARTA-CUSTOM:loyalty_tier;"
					     "gold\r\n"));
		assert_null(strstr(text, "empty_one"));
		assert_non_null(strstr(text, "\r\nTEL;TYPE=cell;VALUE=uri;"
					     "PREF=1;X-CARTA-ORIGINAL=\"(+34) "
					     "600 ^'111^' 222, ^^ext; 9\":"));
		assert_non_null(strstr(text, "\r\nitem1.TEL;VALUE=uri:"
					     "tel:+34911111111\r\n"));
		read_mem(text, &r);
		free(text);
		assert_int_equal(r.n, 1);
		b = card_at(&r, 0);
		assert_null(r.rec[0].note);
		assert_string_equal(b->identity->number, "C-000007");
		assert_string_equal(b->identity->status, statuses[k]);
		assert_string_equal(b->identity->home_branch, "MAD-Centro");
		assert_int_equal(b->contact->n_phones, 3);
		for (size_t i = 0; i < 3; i++) {
			assert_string_equal(b->contact->phones[i]->number,
					    p[i].number);
			assert_string_equal(b->contact->phones[i]->original,
					    p[i].original);
			assert_string_equal(b->contact->phones[i]->label,
					    p[i].label);
			assert_int_equal(b->contact->phones[i]->primary,
					 p[i].primary);
		}
		/* The server sets each value's section from its field. */
		assert_int_equal(b->n_custom, 2);
		for (size_t i = 0; i < 2; i++) {
			assert_string_equal(b->custom[i]->field, cv[i].field);
			assert_string_equal(b->custom[i]->value, cv[i].value);
		}
		free_recs(&r);
	}

	/* A custom value without a field or a value is none. */
	read_mem("BEGIN:VCARD\nFN:Some One\nX-CARTA-CUSTOM:tier\n"
		 "X-CARTA-CUSTOM:;gold\nX-CARTA-CUSTOM:tier;\n"
		 "X-CARTA-CUSTOM:a\\;b;c\\;d\nEND:VCARD\n",
		 &r);
	b = card_at(&r, 0);
	assert_int_equal(b->n_custom, 1);
	assert_string_equal(b->custom[0]->field, "a;b");
	assert_string_equal(b->custom[0]->value, "c;d");
	assert_string_equal(b->identity->status, "");
	free_recs(&r);
}

/* Long lines of 2- and 3-octet characters: every line at most 75 octets
 * and valid UTF-8 on its own, and the value reads back whole. */
static void test_write_folding(void **state)
{
	Carta__V1__Card card = CARTA__V1__CARD__INIT;
	Carta__V1__Identity id = CARTA__V1__IDENTITY__INIT;
	Carta__V1__Note note = CARTA__V1__NOTE__INIT, *np[1] = {&note};
	char noteb[2000], given[400];
	char *text, *line, *save;
	size_t len, k = 0, lines = 0;
	recs r;

	(void)state;
	for (int i = 0; i < 300; i++)
		k += (size_t)sprintf(noteb + k, "%s",
				     i % 3 == 0	  ? "\xe6\x97\xa5" /* 日 */
				     : i % 3 == 1 ? "\xc3\xa9"	   /* é */
						  : "a");
	k = 0;
	for (int i = 0; i < 100; i++)
		k += (size_t)sprintf(given + k, "\xe6\x9c\xac"); /* 本 */
	id.given_name = given;
	id.family_name = "X";
	note.text = noteb;
	card.identity = &id;
	card.n_notes = 1;
	card.notes = np;

	text = write_card(&card, &len);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);

		assert_true(n >= 1 && line[n - 1] == '\r');
		n--;
		assert_true(n <= 75);
		/* A folded part never starts in the middle of a character. */
		assert_true(((unsigned char)line[line[0] == ' '] & 0xC0) !=
			    0x80);
		lines++;
	}
	assert_true(lines > 10);
	free(text);

	text = write_card(&card, &len);
	read_mem(text, &r);
	free(text);
	assert_string_equal(card_at(&r, 0)->notes[0]->text, noteb);
	assert_string_equal(card_at(&r, 0)->identity->given_name, given);
	free_recs(&r);
}

/* ---- The shared sample files --------------------------------------------- */

#define DATA_DIR CARTA_SOURCE_DIR "/../shared/data/vcard"

static void read_file(const char *name, recs *r)
{
	char path[512], err[256];
	import_src *s = NULL;

	snprintf(path, sizeof path, "%s/%s", DATA_DIR, name);
	if (import_vcard_reader.open(path, NULL, &s, err, sizeof err) != 0)
		fail_msg("%s", err);
	drain(s, r);
	assert_int_equal(r->last_rc, 0);
}

static void test_shared_files(void **state)
{
	/* Counted once and checked by reading the files: the rejected are a
	 * comment line ('#') inside a card, a nested card and the stray
	 * lines after it, an ORG with a bad UTF-8 byte (=80), a 2.1 name in
	 * ISO-8859-2 without CHARSET, and a card that holds only a PHOTO. */
	static const struct {
		const char *name;
		size_t cards, rejected;
	} files[] = {
	    {"android-v21_adr_multiple_line.vcf", 1, 0},
	    {"android-v21_backslash.vcf", 1, 0},
	    {"android-v21_complicated.vcf", 1, 0},
	    {"android-v21_invalid_comment_line.vcf", 0, 1},
	    {"android-v21_invalid_multiple_line.vcf", 1, 0},
	    {"android-v21_japanese_2.vcf", 1, 0},
	    {"android-v21_malformed_photo.vcf", 1, 0},
	    {"android-v21_nest.vcf", 2, 2},
	    {"android-v21_pref_handling.vcf", 1, 0},
	    {"android-v21_winmo_65.vcf", 1, 0},
	    {"android-v30_comma_separated.vcf", 1, 0},
	    {"android-v30_pause_wait.vcf", 1, 0},
	    {"android-v40_sort_as.vcf", 1, 0},
	    {"davx5-allfields-vcard3.vcf", 1, 0},
	    {"davx5-invalid-rev.vcf", 1, 0},
	    {"davx5-strange-rev.vcf", 1, 0},
	    {"eds-custom-1-15.vcf", 15, 0},
	    {"eds-photo-1.vcf", 1, 0},
	    {"eds-sorted-1-20.vcf", 20, 0},
	    {"ezvcard-John_Doe_ANDROID.vcf", 5, 1},
	    {"ezvcard-John_Doe_EVOLUTION.vcf", 1, 0},
	    {"ezvcard-John_Doe_GMAIL.vcf", 1, 0},
	    {"ezvcard-John_Doe_IPHONE.vcf", 1, 0},
	    {"ezvcard-John_Doe_MS_OUTLOOK.vcf", 1, 0},
	    {"ezvcard-gmail-single2.vcf", 1, 0},
	    {"ezvcard-issue114.vcf", 1, 0},
	    {"ezvcard-outlook-2003.vcf", 1, 0},
	    {"ezvcard-rfc2426-example.vcf", 2, 0},
	    {"ezvcard-rfc6350-example.vcf", 1, 0},
	    {"mudita-encoded-contact.vcf", 1, 0},
	    {"mudita-mixed-versions.vcf", 3, 0},
	    {"mudita-v2-1-samsung-quoted-printable.vcf", 2, 0},
	    {"roundcube-apple.vcf", 1, 0},
	    {"roundcube-thebat.vcf", 0, 1},
	    {"roundcube-utf-16_sample.vcf", 1, 0},
	    {"sabre-issue153.vcf", 1, 0},
	    {"sabre-issue64.vcf", 0, 1},
	    {"thunderbird-export.vcf", 2, 0},
	    {"vobject-radicale-1587.vcf", 1, 0},
	};
	recs r;

	(void)state;
	if (access(DATA_DIR "/eds-sorted-1-20.vcf", R_OK) != 0) {
		printf("SKIP: %s is absent\n", DATA_DIR);
		skip();
	}
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		size_t cards = 0, rejected = 0;

		read_file(files[i].name, &r);
		for (size_t k = 0; k < r.n; k++) {
			if (r.rec[k].card != NULL)
				cards++;
			else
				rejected++;
			/* Every rejection says where. */
			if (r.rec[k].card == NULL)
				assert_true(
				    strncmp(r.rec[k].reason, "line ", 5) == 0);
		}
		if (cards != files[i].cards || rejected != files[i].rejected)
			fail_msg("%s: %zu cards, %zu rejected", files[i].name,
				 cards, rejected);
		free_recs(&r);
	}
}

static void test_shared_values(void **state)
{
	const Carta__V1__Card *c;
	recs r;

	(void)state;
	if (access(DATA_DIR "/eds-sorted-1-20.vcf", R_OK) != 0) {
		printf("SKIP: %s is absent\n", DATA_DIR);
		skip();
	}

	/* SHIFT_JIS, quoted-printable over three lines, SOUND skipped. */
	read_file("android-v21_japanese_2.vcf", &r);
	c = card_at(&r, 0);
	assert_string_equal(c->identity->family_name, "\xe5\xae\x89\xe8\x97"
						      "\xa4"); /* 安藤 */
	assert_string_equal(c->identity->given_name,
			    "\xe3\x83\xad\xe3\x82\xa4\xe3\x83\x89"
			    "1"); /* ロイド1 */
	assert_string_equal(
	    c->contact->addresses[0]->street,
	    "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe6\xb8\x8b\xe8\xb0\xb7"
	    "\xe5\x8c\xba\xe6\xa1\x9c\xe4\xb8\x98\xe7\x94\xba"
	    "26-1\xe3\x82\xbb\xe3\x83\xab\xe3\x83\xaa\xe3\x82\xa2\xe3\x83\xb3"
	    "\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc"
	    "6\xe9\x9a\x8e"); /* 東京都渋谷区桜丘町26-1セルリアンタワー6階 */
	assert_string_equal(c->contact->addresses[0]->postal_code, "150-8512");
	assert_string_equal(c->notes[0]->text,
			    "\xe3\x83\xa1\xe3\x83\xa2"); /* メモ */
	assert_string_equal(r.rec[0].note, "SOUND skipped");
	free_recs(&r);

	read_file("eds-sorted-1-20.vcf", &r);
	assert_int_equal(r.n, 20);
	assert_string_equal(card_at(&r, 0)->identity->family_name, "bad");
	assert_string_equal(card_at(&r, 0)->identity->given_name, "First Name");
	assert_string_equal(card_at(&r, 0)->identity->external_id, "sorted-1");
	assert_string_equal(card_at(&r, 4)->identity->family_name, "b\xc3\xa4"
								   "d");
	assert_string_equal(card_at(&r, 10)->identity->given_name,
			    "Ye Nameless");
	assert_string_equal(card_at(&r, 10)->identity->family_name, "One");
	assert_string_equal(card_at(&r, 19)->identity->family_name,
			    "M\xc3\xbcller");
	assert_int_equal(r.rec[19].line, 116);
	assert_string_equal(card_at(&r, 1)->contact->emails[1]->address,
			    "janny@jackson.com");
	free_recs(&r);

	read_file("roundcube-utf-16_sample.vcf", &r);
	c = card_at(&r, 0);
	assert_string_equal(c->identity->family_name, "\xc4\xbd"
						      "daMont\xc3\xa9");
	assert_string_equal(c->contact->addresses[0]->country, "PE");
	free_recs(&r);

	read_file("android-v21_nest.vcf", &r);
	assert_string_equal(r.rec[0].reason,
			    "line 4: BEGIN:VCARD inside a card");
	assert_string_equal(card_at(&r, 1)->identity->family_name, "nest1");
	assert_string_equal(card_at(&r, 2)->identity->family_name, "nest2");
	assert_string_equal(r.rec[3].reason, "line 12: text outside a card");
	free_recs(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v21),
	    cmocka_unit_test(test_v30),
	    cmocka_unit_test(test_v40),
	    cmocka_unit_test(test_folding),
	    cmocka_unit_test(test_quoted_printable),
	    cmocka_unit_test(test_charset_missing),
	    cmocka_unit_test(test_utf16_file),
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_nul_rejected),
	    cmocka_unit_test(test_decoded_nul_rejected),
	    cmocka_unit_test(test_reason_names_property_line),
	    cmocka_unit_test(test_broken_among_good),
	    cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_photo_skipped),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_write_read_back),
	    cmocka_unit_test(test_write_read_back_carta),
	    cmocka_unit_test(test_write_folding),
	    cmocka_unit_test(test_shared_files),
	    cmocka_unit_test(test_shared_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
