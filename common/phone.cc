// The one C++ file in Carta: it hides libphonenumber behind phone.h. Every
// path out of phone_normalise goes through its try block, so no exception
// reaches C.
#include "phone.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include "carta_error.h"

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace
{

void say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == nullptr || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *parse_reason(PhoneNumberUtil::ErrorType e, bool have_region)
{
	switch (e) {
	case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
		return have_region ? "unknown country calling code"
				   : "no country calling code (start with +) "
				     "and no default country";
	case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
		return "too short after the international prefix";
	case PhoneNumberUtil::TOO_SHORT_NSN:
		return "too short to be a phone number";
	case PhoneNumberUtil::TOO_LONG_NSN:
		return "too long to be a phone number";
	case PhoneNumberUtil::NOT_A_NUMBER:
	default:
		return "not a phone number";
	}
}

// Why a parsed number is not valid, naming its country code and main
// region, which are facts of the numbering plan, not of the input.
void invalid_reason(const PhoneNumberUtil &util, const PhoneNumber &n,
		    char *err, size_t errlen)
{
	int cc = n.country_code();
	std::string where;
	util.GetRegionCodeForCountryCode(cc, &where);

	switch (util.IsPossibleNumberWithReason(n)) {
	case PhoneNumberUtil::INVALID_COUNTRY_CODE:
		say(err, errlen, "unknown country calling code +%d", cc);
		return;
	case PhoneNumberUtil::TOO_SHORT:
		say(err, errlen, "too few digits for +%d (%s)", cc,
		    where.c_str());
		return;
	case PhoneNumberUtil::TOO_LONG:
		say(err, errlen, "too many digits for +%d (%s)", cc,
		    where.c_str());
		return;
	case PhoneNumberUtil::INVALID_LENGTH:
		say(err, errlen, "wrong number of digits for +%d (%s)", cc,
		    where.c_str());
		return;
	case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
		say(err, errlen,
		    "a local number without its area code for +%d (%s)", cc,
		    where.c_str());
		return;
	case PhoneNumberUtil::IS_POSSIBLE:
	default:
		say(err, errlen,
		    "not a number in the numbering plan of +%d (%s)", cc,
		    where.c_str());
		return;
	}
}

// The E.164 form of a number is not always what libphonenumber gives back
// when parsing that form: "+52 011 55 1234 5678" formats as
// +5215512345678 (Mexico's old mobile 1 kept, and valid in the metadata),
// which parses again as +525512345678. Equal numbers must store equal, so
// parse the result until it no longer changes.
void canonical(const PhoneNumberUtil &util, std::string *e164)
{
	for (int round = 0; round < 3; round++) {
		PhoneNumber n;
		std::string again;
		if (util.Parse(*e164, "ZZ", &n) !=
			PhoneNumberUtil::NO_PARSING_ERROR ||
		    !util.IsValidNumber(n))
			return;
		util.Format(n, PhoneNumberUtil::E164, &again);
		if (again == *e164)
			return;
		*e164 = again;
	}
}

} // namespace

extern "C" int phone_normalise(const char *in, const char *region, char *e164,
			       size_t cap, int *has_extension, char *err,
			       size_t errlen)
{
	if (cap > 0)
		e164[0] = '\0';
	*has_extension = 0;

	try {
		const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
		bool have_region = region != nullptr && region[0] != '\0';
		// "ZZ" is libphonenumber's "unknown region": "+" required.
		std::string reg = have_region ? region : "ZZ";
		PhoneNumber n;

		PhoneNumberUtil::ErrorType e = util.Parse(in, reg, &n);
		if (e != PhoneNumberUtil::NO_PARSING_ERROR) {
			if (e == PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR &&
			    have_region &&
			    util.GetCountryCodeForRegion(reg) == 0)
				say(err, errlen,
				    "no country calling code (start with +), "
				    "and the default country %s has no "
				    "numbering plan",
				    reg.c_str());
			else
				say(err, errlen, "%s",
				    parse_reason(e, have_region));
			return CARTA_EINVAL;
		}

		if (!util.IsValidNumber(n)) {
			invalid_reason(util, n, err, errlen);
			return CARTA_EINVAL;
		}

		std::string out;
		util.Format(n, PhoneNumberUtil::E164, &out);
		canonical(util, &out);
		if (out.size() + 1 > cap) {
			say(err, errlen, "needs %zu bytes of room, have %zu",
			    out.size() + 1, cap);
			return CARTA_ETOOBIG;
		}
		std::memcpy(e164, out.c_str(), out.size() + 1);
		*has_extension = n.has_extension() && !n.extension().empty();
		return 0;
	} catch (const std::bad_alloc &) {
		say(err, errlen, "out of memory");
		return CARTA_ENOMEM;
	} catch (...) {
		say(err, errlen, "the phone number library failed");
		return CARTA_EINVAL;
	}
}
