/* Deterministic demo cards; see demo.h.
 *
 * Each card draws from its own stream of a small PRNG (splitmix64) keyed
 * by the seed and the card's index, so a card does not depend on how
 * many were drawn before it; only the uniqueness of emails and phones
 * (kept in a set of hashes) and the planted duplicates tie cards
 * together. Every phone and email is checked with common/validate.h as
 * it is made, so what comes out is what the server would accept. */
#include "demo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "carta_error.h"
#include "validate.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Random numbers ---------------------------------------------------- */

typedef struct {
	uint64_t s;
} rng;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rng_next(rng *r)
{
	r->s += UINT64_C(0x9e3779b97f4a7c15);
	return mix64(r->s);
}

/* A stream per (seed, index, purpose): purposes keep a duplicate's own
 * lists apart from its original's. */
static rng rng_for(uint64_t seed, unsigned index, unsigned purpose)
{
	rng r = {mix64(seed ^ mix64(((uint64_t)index << 8 | purpose) +
				    UINT64_C(0x6a09e667f3bcc909)))};
	return r;
}

/* 0 to n - 1 (n > 0); the modulo bias is far below what demo data
 * notices. */
static unsigned below(rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

static unsigned between(rng *r, unsigned lo, unsigned hi)
{
	return lo + below(r, hi - lo + 1);
}

static int chance(rng *r, unsigned percent)
{
	return below(r, 100) < percent;
}

static const char *pick_(rng *r, const char *const *a, size_t n)
{
	return a[below(r, (unsigned)n)];
}
#define PICK(r, a) pick_(r, a, N(a))

/* ---- Dates ------------------------------------------------------------- */

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int y, unsigned m)
{
	static const unsigned d[] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 (negative before). */
static int64_t day_number(int y, unsigned m, unsigned d)
{
	int64_t n = 0;

	for (int k = 1970; k < y; k++)
		n += 365 + leap(k);
	for (int k = y; k < 1970; k++)
		n -= 365 + leap(k);
	for (unsigned k = 1; k < m; k++)
		n += month_days(y, k);
	return n + d - 1;
}

static void day_text(int64_t n, char out[VALIDATE_DATE_SIZE])
{
	int y = 1970;
	unsigned m = 1;

	while (n < 0) {
		y--;
		n += 365 + leap(y);
	}
	while (n >= 365 + leap(y)) {
		n -= 365 + leap(y);
		y++;
	}
	while (n >= month_days(y, m)) {
		n -= month_days(y, m);
		m++;
	}
	snprintf(out, VALIDATE_DATE_SIZE, "%04d-%02u-%02u", y, m,
		 (unsigned)n + 1);
}

/* ---- Data: people ------------------------------------------------------ */

/* Where a person's name comes from. Names that ASCII folding cannot
 * spell (Greek, Japanese) carry their romanisation after a '|', for the
 * email address. */
typedef struct {
	const char *language; /* for demographics */
	const char *const *male;
	size_t n_male;
	const char *const *female;
	size_t n_female;
	const char *const *family;
	size_t n_family;
	int two_surnames; /* percent of people with two family names */
} origin;

static const char *const es_male[] = {
    "José",	 "Antonio", "Manuel",	   "Francisco", "Javier",	"David",
    "Daniel",	 "Carlos",  "Álvaro",	   "Pablo",	"Sergio",	"Raúl",
    "Ángel",	 "Andrés",  "Ramón",	   "Jesús",	"Alejandro",	"Rubén",
    "Guillermo", "Adrián",  "Juan Carlos", "José Luis", "Miguel Ángel", "Íñigo",
    "Óscar",	 "Joaquín", "Fermín",	   "Hugo"};
static const char *const es_female[] = {
    "María",   "Lucía",	   "Carmen",	 "Ana",	      "Laura",	  "Marta",
    "Elena",   "Sofía",	   "Rocío",	 "Pilar",     "Inés",	  "Concepción",
    "Dolores", "Noelia",   "Mercedes",	 "Beatriz",   "Cristina", "Irene",
    "Begoña",  "Nuria",	   "María José", "Ana Belén", "Raquel",	  "Ángela",
    "Mónica",  "Verónica", "Alicia",	 "Yolanda"};
static const char *const es_family[] = {
    "García",  "Fernández", "González",	 "Rodríguez", "López",	 "Martínez",
    "Sánchez", "Pérez",	    "Muñoz",	 "Ibáñez",    "Peña",	 "Castaño",
    "Núñez",   "Gómez",	    "Martín",	 "Jiménez",   "Ruiz",	 "Hernández",
    "Díaz",    "Moreno",    "Álvarez",	 "Romero",    "Alonso",	 "Gutiérrez",
    "Navarro", "Torres",    "Domínguez", "Vázquez",   "Ramos",	 "Gil",
    "Ramírez", "Serrano",   "Blanco",	 "Molina",    "Morales", "Suárez",
    "Ortega",  "Delgado",   "Castro",	 "Ortiz",     "Rubio",	 "Marín",
    "Sanz",    "Iglesias",  "Medina",	 "Garrido",   "Cortés",	 "Castillo",
    "Santos",  "Lozano",    "Cano",	 "Prieto",    "Méndez",	 "Calvo",
    "Gallego", "Vidal",	    "León",	 "Herrera",   "Márquez", "Cabrera",
    "Vega",    "Fuentes",   "Carrasco",	 "Caballero", "Nieto",	 "Pascual",
    "Benítez", "Durán",	    "Sáez",	 "Peñalver",  "Montaño", "Cañizares"};
static const char *const ca_male[] = {"Jordi", "Oriol",	 "Pau",	  "Marc",
				      "Josep", "Xavier", "Martí", "Arnau"};
static const char *const ca_female[] = {"Montserrat", "Núria", "Mireia",
					"Roser",      "Laia",  "Meritxell",
					"Anna",	      "Mercè"};
static const char *const ca_family[] = {
    "Puig",  "Vila",   "Soler", "Ferrer", "Roca",   "Serra", "Pujol",
    "Font",  "Casals", "Bosch", "Riera",  "Mas",    "Sala",  "Vilaró",
    "Comas", "Badia",  "Grau",	"Martí",  "Garcia", "Sabaté"};
static const char *const eu_male[] = {"Iker",  "Xabier", "Aitor", "Unai",
				      "Mikel", "Gorka",	 "Ander", "Íñigo"};
static const char *const eu_female[] = {"Ainhoa", "Nerea", "Amaia",   "Itziar",
					"Leire",  "Maite", "Arantxa", "Begoña"};
static const char *const eu_family[] = {
    "Etxeberria", "Agirre",   "Goikoetxea", "Urrutia", "Zubizarreta",
    "Arrieta",	  "Elizondo", "Larrañaga",  "Ibarra",  "Uriarte",
    "Mendizábal", "Otxoa",    "Garmendia",  "Aranburu"};
static const char *const gl_male[] = {"Xosé", "Brais", "Anxo",
				      "Iago", "Xoán",  "Roi"};
static const char *const gl_female[] = {"Uxía",	  "Antía", "Iria",
					"Sabela", "Noa",   "Xiana"};
static const char *const gl_family[] = {"Otero",  "Castiñeira", "Figueroa",
					"Louzao", "Seoane",	"Vilariño",
					"Pazos",  "Carballo",	"Rivas"};
static const char *const fr_male[] = {"François", "Théo",   "Benoît",
				      "Jean-Luc", "Jérôme", "Étienne",
				      "Loïc",	  "Mathieu"};
static const char *const fr_female[] = {
    "Amélie", "Hélène", "Chloé", "Gaëlle", "Zoé", "Céline", "Léa", "Françoise"};
static const char *const fr_family[] = {
    "Dupont", "Lefèvre",  "Girard",  "Moreau",	  "Lemaître", "Rousseau",
    "Fabre",  "Bérénger", "Garnier", "Chevalier", "Dubois",   "Laurent"};
static const char *const de_male[] = {"Jürgen",	  "Günther",   "Jörg",
				      "Matthias", "Björn",     "Uwe",
				      "Lukas",	  "Maximilian"};
static const char *const de_female[] = {"Käthe",     "Sabine",	"Lena",
					"Sophie",    "Jürgina", "Brigitte",
					"Anneliese", "Lea"};
static const char *const de_family[] = {
    "Müller",  "Schröder", "Weiß",    "Groß", "Strauß",	 "Köhler",  "Bäcker",
    "Schäfer", "Krüger",   "Meißner", "Böhm", "Schmidt", "Fischer", "Wagner"};
static const char *const pt_male[] = {
    "João", "Gonçalo", "Sebastião", "Tomás", "Rodrigo", "Luís", "António"};
static const char *const pt_female[] = {
    "Conceição", "Inês", "Leonor", "Margarida", "Beatriz", "Matilde", "Ana"};
static const char *const pt_family[] = {
    "Gonçalves", "Magalhães", "Simões",	 "Guimarães", "Araújo",	 "Brandão",
    "Assunção",	 "Mendonça",  "Estêvão", "Silva",     "Pereira", "Fonseca"};
static const char *const no_male[] = {"Søren", "Øystein", "Bjørn",
				      "Kåre",  "Lars",	  "Håkon"};
static const char *const no_female[] = {"Åsa",	  "Ingrid", "Åse",
					"Sigrún", "Liv",    "Solveig"};
static const char *const no_family[] = {"Østergaard", "Ångström",  "Sørensen",
					"Lindqvist",  "Bjørnstad", "Håkansson",
					"Dahl",	      "Løkken"};
static const char *const en_male[] = {"Oliver", "George",  "James", "Michael",
				      "Harry",	"William", "Thomas"};
static const char *const en_female[] = {
    "Emily", "Charlotte", "Olivia", "Jennifer", "Amelia", "Sarah", "Siobhan"};
static const char *const en_family[] = {
    "Smith", "O'Brien",	   "Johnson", "Williams", "Taylor",
    "Brown", "McAllister", "Evans",   "Walker",	  "Thompson"};
static const char *const mx_male[] = {"José Luis", "Juan Carlos", "Jesús",
				      "Emiliano",  "Santiago",	  "Diego"};
static const char *const mx_female[] = {"Guadalupe", "María Fernanda", "Ximena",
					"Valeria",   "Citlali",	       "Itzel"};
static const char *const mx_family[] = {
    "Hernández", "López",      "Ramírez", "Cruz",    "Flores",
    "Ortega",	 "Villalobos", "Zúñiga",  "Treviño", "Castañeda"};
static const char *const el_male[] = {"Γιώργος|giorgos", "Δημήτρης|dimitris",
				      "Νίκος|nikos"};
static const char *const el_female[] = {"Ελένη|eleni", "Μαρία|maria",
					"Κατερίνα|katerina"};
static const char *const el_family[] = {"Παπαδόπουλος|papadopoulos",
					"Κωνσταντίνου|konstantinou",
					"Νικολάου|nikolaou"};
static const char *const ja_male[] = {"健太|kenta", "翔|sho", "大輔|daisuke"};
static const char *const ja_female[] = {"花子|hanako", "由美|yumi",
					"さくら|sakura"};
static const char *const ja_family[] = {"佐藤|sato", "鈴木|suzuki",
					"高橋|takahashi", "田中|tanaka"};

#define ORIGIN(lang, p, two)                                                   \
	{                                                                      \
		lang, p##_male, N(p##_male), p##_female, N(p##_female),        \
		    p##_family, N(p##_family), two                             \
	}

enum {
	O_ES,
	O_CA,
	O_EU,
	O_GL,
	O_FR,
	O_DE,
	O_PT,
	O_NO,
	O_EN,
	O_MX,
	O_EL,
	O_JA,
};
static const origin origins[] = {
    ORIGIN("es", es, 75), ORIGIN("ca", ca, 40), ORIGIN("eu", eu, 50),
    ORIGIN("gl", gl, 60), ORIGIN("fr", fr, 0),	ORIGIN("de", de, 0),
    ORIGIN("pt", pt, 50), ORIGIN("no", no, 0),	ORIGIN("en", en, 0),
    ORIGIN("es", mx, 70), ORIGIN("el", el, 0),	ORIGIN("ja", ja, 0),
};

/* Planted so that a search for "jose garcia" always finds several. */
static const char *const jose_garcia[][2] = {
    {"José", "García López"},  {"Jose", "Garcia"},
    {"JOSÉ", "GARCÍA MARTÍN"}, {"José Antonio", "García Pérez"},
    {"José", "García"},	       {"Jose", "García Núñez"},
    {"josé", "garcía ruiz"},   {"José María", "García-Castaño"},
};
#define JOSE_EVERY 47

static const char *const professions[][2] = {
    {"enfermero", "enfermera"},
    {"ingeniero de software", "ingeniera de software"},
    {"profesor", "profesora"},
    {"abogado", "abogada"},
    {"fontanero", "fontanera"},
    {"médico", "médica"},
    {"autónomo", "autónoma"},
    {"jubilado", "jubilada"},
    {"estudiante", "estudiante"},
    {"administrativo", "administrativa"},
    {"comercial", "comercial"},
    {"diseñador gráfico", "diseñadora gráfica"},
    {"camarero", "camarera"},
    {"farmacéutico", "farmacéutica"},
    {"electricista", "electricista"},
    {"periodista", "periodista"},
    {"arquitecto", "arquitecta"},
    {"funcionario", "funcionaria"},
};

/* ---- Data: places ------------------------------------------------------ */

enum { C_ES, C_PT, C_FR, C_DE, C_GB, C_MX, C_US };

typedef struct {
	int country; /* C_* */
	const char *city, *region;
	unsigned pc_lo, pc_hi;	/* numeric postal codes, %05u */
	const char *const *pcs; /* or one of these (NULL-terminated) */
	const char *land;	/* landline prefix after the country code */
	const char *branch;	/* nearest home branch */
	int local;		/* O_* of the regional language, or -1 */
	unsigned weight;
} city;

static const char *const pc_lisboa[] = {"1100-048", "1250-096", "1000-138",
					"1200-195", "1500-150", NULL};
static const char *const pc_porto[] = {"4000-322", "4050-262", "4100-138",
				       NULL};
static const char *const pc_london[] = {
    "SW1A 2AA", "EC1A 1BB", "W1D 3QU", "N1 9GU", "SE1 7PB", "NW1 6XE", NULL};
static const char *const pc_manchester[] = {"M1 1AE", "M4 5JD", "M20 2RN",
					    NULL};
static const char *const pc_edinburgh[] = {"EH1 1YZ", "EH3 9WJ", "EH8 8DX",
					   NULL};
static const char *const pc_cdmx[] = {"06600", "03100", "11000",
				      "06700", "04510", NULL};
static const char *const pc_gdl[] = {"44100", "44600", "45050", NULL};
static const char *const pc_mty[] = {"64000", "64620", "66220", NULL};

static const city cities[] = {
    {C_ES, "Madrid", "Comunidad de Madrid", 28001, 28055, NULL, "91", "madrid",
     -1, 250},
    {C_ES, "Barcelona", "Cataluña", 8001, 8042, NULL, "93", "barcelona", O_CA,
     150},
    {C_ES, "Sevilla", "Andalucía", 41001, 41020, NULL, "954", "sevilla", -1,
     70},
    {C_ES, "Valencia", "Comunitat Valenciana", 46001, 46026, NULL, "96",
     "valencia", O_CA, 80},
    {C_ES, "Bilbao", "País Vasco", 48001, 48015, NULL, "94", "bilbao", O_EU,
     60},
    {C_ES, "Zaragoza", "Aragón", 50001, 50021, NULL, "976", "barcelona", -1,
     30},
    {C_ES, "Málaga", "Andalucía", 29001, 29018, NULL, "952", "sevilla", -1, 30},
    {C_ES, "Santiago de Compostela", "Galicia", 15701, 15707, NULL, "981",
     "bilbao", O_GL, 15},
    {C_ES, "A Coruña", "Galicia", 15001, 15011, NULL, "981", "bilbao", O_GL,
     15},
    {C_ES, "Girona", "Cataluña", 17001, 17007, NULL, "972", "barcelona", O_CA,
     15},
    {C_ES, "Donostia-San Sebastián", "País Vasco", 20001, 20018, NULL, "943",
     "bilbao", O_EU, 15},
    {C_ES, "Valladolid", "Castilla y León", 47001, 47017, NULL, "983", "madrid",
     -1, 15},
    {C_ES, "Palma", "Illes Balears", 7001, 7015, NULL, "971", "valencia", O_CA,
     15},
    {C_ES, "Murcia", "Región de Murcia", 30001, 30012, NULL, "968", "valencia",
     -1, 15},
    {C_ES, "Las Palmas de Gran Canaria", "Canarias", 35001, 35019, NULL, "928",
     "sevilla", -1, 15},
    {C_ES, "Alicante", "Comunitat Valenciana", 3001, 3016, NULL, "965",
     "valencia", -1, 15},
    {C_ES, "Granada", "Andalucía", 18001, 18015, NULL, "958", "sevilla", -1,
     15},
    {C_ES, "Oviedo", "Principado de Asturias", 33001, 33013, NULL, "985",
     "bilbao", -1, 10},
    {C_ES, "Salamanca", "Castilla y León", 37001, 37008, NULL, "923", "madrid",
     -1, 10},
    {C_ES, "Pamplona", "Navarra", 31001, 31016, NULL, "948", "bilbao", -1, 10},
    {C_PT, "Lisboa", "Lisboa", 0, 0, pc_lisboa, "21", "madrid", O_PT, 25},
    {C_PT, "Porto", "Porto", 0, 0, pc_porto, "22", "madrid", O_PT, 15},
    {C_FR, "Paris", "Île-de-France", 75001, 75020, NULL, "1", "barcelona", O_FR,
     20},
    {C_FR, "Lyon", "Auvergne-Rhône-Alpes", 69001, 69009, NULL, "4", "barcelona",
     O_FR, 10},
    {C_FR, "Bordeaux", "Nouvelle-Aquitaine", 33000, 33000, NULL, "5", "bilbao",
     O_FR, 10},
    {C_DE, "Berlin", "Berlin", 10115, 10999, NULL, "30", "madrid", O_DE, 15},
    {C_DE, "München", "Bayern", 80331, 81929, NULL, "89", "madrid", O_DE, 10},
    {C_DE, "Hamburg", "Hamburg", 20095, 22769, NULL, "40", "barcelona", O_DE,
     5},
    {C_GB, "London", "England", 0, 0, pc_london, "20", "madrid", O_EN, 20},
    {C_GB, "Manchester", "England", 0, 0, pc_manchester, "161", "madrid", O_EN,
     6},
    {C_GB, "Edinburgh", "Scotland", 0, 0, pc_edinburgh, "131", "madrid", O_EN,
     4},
    {C_MX, "Ciudad de México", "CDMX", 0, 0, pc_cdmx, "55", "madrid", O_MX, 12},
    {C_MX, "Guadalajara", "Jalisco", 0, 0, pc_gdl, "33", "madrid", O_MX, 5},
    {C_MX, "Monterrey", "Nuevo León", 0, 0, pc_mty, "81", "madrid", O_MX, 3},
    {C_US, "New York", "NY", 10001, 10282, NULL, "212", "madrid", O_EN, 10},
    {C_US, "San Francisco", "CA", 94102, 94134, NULL, "415", "barcelona", O_EN,
     5},
    {C_US, "Miami", "FL", 33125, 33199, NULL, "305", "madrid", O_MX, 5},
};

static const char *const country_codes[] = {"ES", "PT", "FR", "DE",
					    "GB", "MX", "US"};

static const char *const es_streets[] = {"Calle Mayor",
					 "Calle Real",
					 "Avenida de la Constitución",
					 "Plaza de España",
					 "Calle del Carmen",
					 "Calle San Vicente",
					 "Avenida de América",
					 "Calle de la Paz",
					 "Calle Doctor Fleming",
					 "Camino de las Huertas",
					 "Calle Núñez de Balboa",
					 "Travesía del Arenal",
					 "Calle Ibáñez de Bilbao",
					 "Gran Vía",
					 "Avenida de Andalucía",
					 "Calle de Cervantes"};
/* Streets of one city or language area, used for some of its people. */
static const char *const madrid_streets[] = {
    "Paseo de la Castellana", "Calle de Alcalá", "Ronda de Segovia",
    "Calle de Goya", "Calle de Fuencarral"};
static const char *const ca_streets[] = {
    "Carrer de Sant Pere", "Passeig de Gràcia", "Carrer Major",
    "Avinguda Diagonal", "Carrer de la Marina"};
static const char *const eu_streets[] = {"Kale Nagusia",
					 "Gran Vía de Don "
					 "Diego López de Haro",
					 "Calle Ercilla", "Done Bikendi kalea"};
static const char *const gl_streets[] = {"Rúa do Franco", "Rúa Nova",
					 "Rúa da Raíña", "Praza de Galicia"};
static const char *const es_floors[] = {
    "",	       "",	     "",       ", 1º A",  ", 2º izda.",
    ", 3º B",  ", 4º dcha.", ", bajo", ", 5º 2ª", ", esc. A, 1º D",
    ", ático", ", 2º C"};
static const char *const pt_streets[] = {"Rua Augusta", "Avenida da Liberdade",
					 "Rua de Santa Catarina", "Rua do Ouro",
					 "Travessa da Glória"};
static const char *const fr_streets[] = {
    "rue de Rivoli", "avenue des Champs-Élysées", "place Bellecour",
    "boulevard Saint-Germain", "rue Sainte-Catherine"};
static const char *const de_streets[] = {"Hauptstraße", "Königsallee",
					 "Schloßstraße", "Müllerstraße",
					 "Bahnhofstraße"};
static const char *const gb_streets[] = {"High Street", "Baker Street",
					 "Queen's Road", "Princes Street",
					 "Deansgate"};
static const char *const mx_streets[] = {"Av. Paseo de la Reforma",
					 "Calle Madero", "Av. Insurgentes Sur",
					 "Av. Chapultepec", "Calle Morelos"};
static const char *const mx_colonias[] = {"Col. Juárez", "Col. Centro",
					  "Col. Roma Norte", "Col. Condesa"};
static const char *const us_streets[] = {"Fifth Avenue", "Market Street",
					 "Broadway", "Ocean Drive",
					 "Valencia Street"};

static const char *const free_domains[] = {
    "gmail.com",  "gmail.com",	   "hotmail.es",     "hotmail.com",
    "yahoo.es",	  "outlook.es",	   "telefonica.net", "movistar.es",
    "icloud.com", "protonmail.com"};
static const char *const foreign_domains[][3] = {
    {"gmail.com", "sapo.pt", "outlook.pt"},	    /* PT */
    {"gmail.com", "orange.fr", "free.fr"},	    /* FR */
    {"gmail.com", "gmx.de", "web.de"},		    /* DE */
    {"gmail.com", "btinternet.com", "outlook.com"}, /* GB */
    {"gmail.com", "yahoo.com.mx", "hotmail.com"},   /* MX */
    {"gmail.com", "yahoo.com", "outlook.com"},	    /* US */
};

/* Before and after a family name, and the domain's first word. */
static const char *const company_forms[][3] = {
    {"Construcciones ", " S.L.", "construcciones"},
    {"Talleres ", " S.A.", "talleres"},
    {"Farmacia ", "", "farmacia"},
    {"Estudio ", " Arquitectos", "estudio"},
    {"", " y Asociados Abogados", "abogados"},
    {"Panadería ", "", "panaderia"},
    {"Clínica Dental ", "", "clinicadental"},
    {"Distribuciones ", " e Hijos S.L.", "distribuciones"},
    {"Bodegas ", "", "bodegas"},
    {"Hostal ", "", "hostal"},
};

/* ---- Data: history ----------------------------------------------------- */

typedef struct {
	const char *code, *name;
	unsigned price; /* EUR cents */
} product;

static const product products[] = {
    {"ZAP-TR3", "Zapatillas running Trail 3", 8995},
    {"CAM-ORG", "Camiseta de algodón orgánico", 1999},
    {"CHA-IMP", "Chaqueta impermeable", 12900},
    {"VAQ-SLM", "Vaqueros slim", 4995},
    {"BOL-PIE", "Bolso de piel", 14500},
    {"REL-ANA", "Reloj analógico", 19900},
    {"AUR-BT5", "Auriculares inalámbricos", 7990},
    {"CAF-ESP", "Cafetera espresso", 24900},
    {"SAR-28", "Sartén antiadherente 28 cm", 3450},
    {"SAB-150", "Juego de sábanas 150 cm", 5900},
    {"LIB-CAS", "Libro: Cien años de soledad", 2190},
    {"MOC-20L", "Mochila urbana 20 l", 5995},
    {"GAF-POL", "Gafas de sol polarizadas", 12000},
    {"PER-100", "Perfume 100 ml", 8900},
    {"TAR-REG", "Tarjeta regalo", 5000},
    {"BUF-MER", "Bufanda de lana merino", 3990},
    {"TOA-BAN", "Toalla de baño", 1595},
    {"LAM-LED", "Lámpara de escritorio LED", 4490},
    {"ALT-BT", "Altavoz bluetooth", 6999},
    {"VES-LIN", "Vestido de lino", 7900},
    {"CAL-ALG", "Calcetines de algodón (pack 3)", 1250},
    {"JER-CAC", "Jersey de cachemir", 15900},
};

static const char *const purchase_channels[] = {"shop",	  "shop",   "shop",
						"online", "online", "phone"};
static const char *const purchase_remarks[] = {"",
					       "",
					       "",
					       "",
					       "",
					       "regalo",
					       "envío urgente",
					       "pagado con tarjeta",
					       "factura a nombre de la empresa",
					       "recogida en tienda"};

static const char *const interaction_channels[] = {"phone", "email", "visit",
						   "chat"};
static const char *const summaries[][2] = {
    {"Pregunta por el estado de su pedido", "resuelto"},
    {"Solicita cambio de talla", "resuelto"},
    {"Reclama un cobro duplicado en la tarjeta", "escalado a facturación"},
    {"Pide información sobre la tarjeta de fidelidad", "informado"},
    {"Queja por retraso en la entrega", "compensado con un vale"},
    {"Quiere darse de baja de la newsletter", "resuelto"},
    {"Consulta disponibilidad de un producto en tienda", "pendiente"},
    {"Devolución de un artículo defectuoso", "reembolsado"},
    {"Cambio de dirección de envío", "resuelto"},
    {"Asked about international shipping", "answered"},
    {"Llamada comercial: presentación de la colección de invierno",
     "interesado"},
    {"Visita a tienda para recoger un encargo", "entregado"},
};

static const char *const note_texts[] = {
    "Prefiere que le llamen por la mañana.",
    "Cliente habitual desde hace años; trato muy cordial.",
    "Alergia al níquel: evitar bisutería.",
    "Pide siempre factura con NIF de la empresa.",
    "No llamar los viernes por la tarde.",
    "Habla mejor inglés que español.",
    "Interesada en los talleres de cocina de la tienda.",
    "Tuvo un problema con una devolución en 2023; resuelto.",
    "Compra regalos de empresa en diciembre.",
    "Ha recomendado la tienda a varios conocidos.",
};

static const char *const colours[] = {"azul",	"negro", "verde", "rojo",
				      "blanco", "gris",	 "beige"};
static const char *const sizes[] = {"XS", "S",	"M",  "L", "XL",
				    "38", "40", "42", "44"};
static const char *const newsletter_formats[] = {"html", "texto"};
static const char *const contact_hours[] = {"mañana", "tarde",
					    "cualquier hora"};

static const char *const consent_purposes[] = {"marketing", "newsletter"};
static const char *const consent_channels[] = {"email", "sms", "phone", "post"};
static const char *const consent_sources[] = {"form", "shop", "phone", "web"};
static const char *const contact_channels[] = {"email", "phone", "sms", "post",
					       "visit"};

/* ---- The generator ----------------------------------------------------- */

struct demo_gen {
	uint64_t seed;
	unsigned count, next;
	unsigned n_dups;
	unsigned *dup_at;   /* index of each duplicate, ascending */
	unsigned *orig_at;  /* index of its original */
	uint8_t **orig_buf; /* each original, packed, once made */
	size_t *orig_len;
	uint64_t *seen; /* open-addressing set of email and phone hashes */
	size_t seen_cap;
	int64_t first_purchase, last_day, first_birth, last_birth;
	unsigned city_total;
};

/* One card being built: the allocations it makes report running out of
 * memory here, so the builders read as straight lines. */
typedef struct {
	demo_gen *g;
	rng r;
	int oom;
} bld;

static char *str_new(bld *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *str_new(bld *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0)
		s = malloc((size_t)n + 1);
	if (s == NULL) {
		b->oom = 1;
		return (char *)protobuf_c_empty_string;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Replaces a string field (freeing the old one) with a copy of s. */
static void str_set(bld *b, char **slot, const char *s)
{
	char *n = str_new(b, "%s", s);

	if (*slot != NULL && *slot != protobuf_c_empty_string)
		free(*slot);
	*slot = n;
}

static void *msg_new(bld *b, const ProtobufCMessageDescriptor *d)
{
	void *m = malloc(d->sizeof_message);

	if (m == NULL)
		b->oom = 1;
	else
		protobuf_c_message_init(d, m);
	return m;
}

static void *arr_new(bld *b, size_t n, size_t size)
{
	void *a = calloc(n ? n : 1, size);

	if (a == NULL)
		b->oom = 1;
	return a;
}

/* The part of a "display|ascii" table entry shown on the card. */
static void display(const char *entry, char *out, size_t cap)
{
	size_t n = strcspn(entry, "|");

	snprintf(out, cap, "%.*s", (int)n, entry);
}

/* Lower-case ASCII for an email address: the romanisation of an entry
 * that has one; otherwise marks stripped and the few letters without a
 * decomposition spelled out. Anything else is dropped. */
static void ascii_fold(const char *entry, char *out, size_t cap)
{
	const char *bar = strchr(entry, '|');
	utf8proc_uint8_t *mapped = NULL;
	size_t o = 0;

	out[0] = '\0';
	if (bar != NULL) {
		snprintf(out, cap, "%s", bar + 1);
		return;
	}
	if (utf8proc_map((const utf8proc_uint8_t *)entry, 0, &mapped,
			 UTF8PROC_NULLTERM | UTF8PROC_DECOMPOSE |
			     UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD) < 0)
		return;
	for (const char *p = (const char *)mapped; *p && o + 3 < cap;) {
		static const struct {
			const char *from, *to;
		} spell[] = {{"ß", "ss"}, {"ø", "o"}, {"æ", "ae"},
			     {"œ", "oe"}, {"ł", "l"}, {"đ", "d"}};
		unsigned char c = (unsigned char)*p;
		size_t k;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			out[o++] = (char)c;
			p++;
			continue;
		}
		for (k = 0; k < N(spell); k++)
			if (strncmp(p, spell[k].from, strlen(spell[k].from)) ==
			    0)
				break;
		if (k < N(spell)) {
			size_t l = strlen(spell[k].to);
			if (o + l < cap) {
				memcpy(out + o, spell[k].to, l);
				o += l;
			}
			p += strlen(spell[k].from);
			continue;
		}
		p++; /* spaces, apostrophes, hyphens and the rest */
	}
	out[o] = '\0';
	free(mapped);
}

/* The first word of a name, folded. */
static void ascii_first(const char *entry, char *out, size_t cap)
{
	char word[128];
	size_t n = strcspn(entry, " -|");

	if (strchr(entry, '|') != NULL) {
		ascii_fold(entry, out, cap);
		return;
	}
	snprintf(word, sizeof word, "%.*s", (int)n, entry);
	ascii_fold(word, out, cap);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * UINT64_C(0x100000001b3);
	}
	return h ? h : 1;
}

/* Adds s to the set of used addresses and numbers; 0 when it was
 * already there. */
static int seen_add(demo_gen *g, const char *s)
{
	uint64_t h = hash_str(s);
	size_t i = (size_t)(h & (g->seen_cap - 1));

	while (g->seen[i] != 0) {
		if (g->seen[i] == h)
			return 0;
		i = (i + 1) & (g->seen_cap - 1);
	}
	g->seen[i] = h;
	return 1;
}

/* ---- Phones ------------------------------------------------------------ */

static void digits(rng *r, char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)('0' + below(r, 10));
	out[n] = '\0';
}

/* A Spanish mobile (mobile != 0) or a landline of the city, typed in one
 * of the ways people type them. */
static void phone_es(rng *r, const city *c, int mobile, char *out, size_t cap)
{
	char d[10];
	unsigned f = below(r, 7);

	if (mobile) {
		d[0] = chance(r, 85) ? '6' : '7';
		digits(r, d + 1, 8);
		if (d[0] == '7')
			d[1] = "12348"[below(r, 5)];
	} else {
		size_t p = strlen(c->land);
		memcpy(d, c->land, p);
		digits(r, d + p, 9 - p);
		if (p == 2 && f < 3) {
			/* "91 123 45 67": the two-digit area code apart. */
			snprintf(out, cap, "%s%.2s %.3s %.2s %.2s",
				 f == 1 ? "+34 " : "", d, d + 2, d + 5, d + 7);
			return;
		}
	}
	switch (f) {
	case 0:
		snprintf(out, cap, "%.3s %.2s %.2s %.2s", d, d + 3, d + 5,
			 d + 7);
		break;
	case 1:
		snprintf(out, cap, "%s", d);
		break;
	case 2:
		snprintf(out, cap, "+34 %s", d);
		break;
	case 3:
		snprintf(out, cap, "+34 %.3s %.2s %.2s %.2s", d, d + 3, d + 5,
			 d + 7);
		break;
	case 4:
		snprintf(out, cap, "0034 %.3s-%.3s-%.3s", d, d + 3, d + 6);
		break;
	case 5:
		snprintf(out, cap, "%.3s-%.3s-%.3s", d, d + 3, d + 6);
		break;
	default:
		snprintf(out, cap, "+34 %.3s %.3s %.3s", d, d + 3, d + 6);
		break;
	}
}

/* A foreign number, always in international form: the server assumes
 * Spain for numbers without one. */
static void phone_abroad(rng *r, const city *c, int mobile, char *out,
			 size_t cap)
{
	char d[12];

	switch (c->country) {
	case C_PT:
		digits(r, d, 9);
		if (mobile) {
			d[0] = '9';
			d[1] = "1236"[below(r, 4)];
		} else {
			memcpy(d, c->land, 2);
		}
		snprintf(out, cap, "+351 %.3s %.3s %.3s", d, d + 3, d + 6);
		break;
	case C_FR:
		digits(r, d, 9);
		if (mobile) {
			d[0] = '6';
			d[1] = "01245678"[below(r, 8)];
		} else {
			d[0] = c->land[0];
			if (d[0] == '4')
				d[1] = '7';
			if (d[0] == '5')
				d[1] = '5';
		}
		snprintf(out, cap, "+33 %c %.2s %.2s %.2s %.2s", d[0], d + 1,
			 d + 3, d + 5, d + 7);
		break;
	case C_DE:
		if (mobile) {
			digits(r, d, 8);
			snprintf(out, cap, "+49 15%c %s", "1279"[below(r, 4)],
				 d);
		} else {
			digits(r, d, 8);
			d[0] = (char)('2' + below(r, 7));
			snprintf(out, cap, "+49 %s %s", c->land, d);
		}
		break;
	case C_GB:
		if (mobile) {
			digits(r, d, 9);
			d[0] = "45789"[below(r, 5)];
			snprintf(out, cap, "+44 7%.3s %.6s", d, d + 3);
		} else if (strcmp(c->land, "20") == 0) {
			digits(r, d, 8);
			d[0] = "378"[below(r, 3)];
			snprintf(out, cap, "+44 20 %.4s %.4s", d, d + 4);
		} else {
			digits(r, d, 7);
			d[0] = (char)('2' + below(r, 7));
			snprintf(out, cap, "+44 %s %.3s %.4s", c->land, d,
				 d + 3);
		}
		break;
	case C_MX:
		digits(r, d, 8);
		d[0] = (char)('2' + below(r, 7));
		snprintf(out, cap, "+52 %s%s %.4s %.4s",
			 mobile && chance(r, 40) ? "1 " : "", c->land, d,
			 d + 4);
		break;
	default: /* C_US */
		digits(r, d, 7);
		d[0] = (char)('2' + below(r, 8));
		if (d[1] == d[2]) /* no 555 or N11 exchanges */
			d[2] = d[1] == '9' ? '0' : (char)(d[1] + 1);
		if (chance(r, 50))
			snprintf(out, cap, "+1 (%s) %.3s-%.4s", c->land, d,
				 d + 3);
		else
			snprintf(out, cap, "+1 %s %.3s %.4s", c->land, d,
				 d + 3);
		break;
	}
}

/* Adds a valid, so far unused phone to m; gives up quietly after a few
 * draws (no phone then). */
static void add_phone(bld *b, Carta__V1__Contact *m, const city *c, int mobile,
		      const char *label)
{
	char typed[48], e164[VALIDATE_E164_SIZE], why[VALIDATE_ERR_SIZE];

	for (int tries = 0; tries < 20; tries++) {
		if (c->country == C_ES)
			phone_es(&b->r, c, mobile, typed, sizeof typed);
		else
			phone_abroad(&b->r, c, mobile, typed, sizeof typed);
		if (validate_phone(typed, "ES", e164, sizeof e164, why,
				   sizeof why) != 0 ||
		    !seen_add(b->g, e164))
			continue;

		Carta__V1__Phone *p = msg_new(b, &carta__v1__phone__descriptor);
		if (p == NULL)
			return;
		m->phones[m->n_phones++] = p;
		p->number = str_new(b, "%s", e164);
		p->original = str_new(b, "%s", typed);
		p->label = str_new(b, "%s", label);
		p->primary = m->n_phones == 1;
		return;
	}
}

/* ---- Cards ------------------------------------------------------------- */

/* Who a card is about, as drawn; the card is built from it. */
typedef struct {
	const city *home;
	int origin; /* O_* */
	int female;
	int company_only;
	char given[128], family[272], company[192];
	char given_ascii[64], family_ascii[64], company_domain[128];
	int64_t birth_day;
	int has_birth;
} person;

static const city *pick_city(bld *b)
{
	unsigned w = below(&b->r, b->g->city_total);

	for (size_t i = 0; i < N(cities); i++) {
		if (w < cities[i].weight)
			return &cities[i];
		w -= cities[i].weight;
	}
	return &cities[0];
}

/* Which names a resident of c has: mostly the place's own, with
 * international residents in Spain. */
static int pick_origin(bld *b, const city *c)
{
	static const int foreign[] = {O_FR, O_DE, O_PT, O_NO, O_EN, O_MX,
				      O_EL, O_JA, O_FR, O_DE, O_EN, O_MX};
	unsigned roll = below(&b->r, 100);

	if (c->country != C_ES)
		return roll < 85 ? c->local : O_ES;
	if (roll < 12)
		return foreign[below(&b->r, N(foreign))];
	if (c->local >= 0 && roll < 12 + 40)
		return c->local;
	return O_ES;
}

static void draw_person(bld *b, unsigned index, int may_be_company, person *p)
{
	const origin *o;
	char one[128], two[128];

	memset(p, 0, sizeof *p);
	p->home = pick_city(b);
	p->origin = pick_origin(b, p->home);
	if (index % JOSE_EVERY == 5) {
		/* One of the planted José Garcías: Spanish, in Spain. */
		p->origin = O_ES;
		if (p->home->country != C_ES)
			p->home = &cities[0];
	}
	o = &origins[p->origin];
	p->female = chance(&b->r, 52);
	p->company_only = may_be_company && chance(&b->r, 3);

	display(p->female ? pick_(&b->r, o->female, o->n_female)
			  : pick_(&b->r, o->male, o->n_male),
		p->given, sizeof p->given);
	{
		const char *f1 = pick_(&b->r, o->family, o->n_family);
		const char *f2 = pick_(&b->r, o->family, o->n_family);

		display(f1, one, sizeof one);
		display(f2, two, sizeof two);
		ascii_fold(f1, p->family_ascii, sizeof p->family_ascii);
		if (chance(&b->r, (unsigned)o->two_surnames) &&
		    strcmp(one, two) != 0)
			snprintf(p->family, sizeof p->family, "%s%s%s", one,
				 p->origin == O_CA && chance(&b->r, 30) ? " i "
									: " ",
				 two);
		else
			snprintf(p->family, sizeof p->family, "%s", one);
	}
	if (index % JOSE_EVERY == 5) {
		const char *const *v =
		    jose_garcia[(index / JOSE_EVERY) % N(jose_garcia)];
		snprintf(p->given, sizeof p->given, "%s", v[0]);
		snprintf(p->family, sizeof p->family, "%s", v[1]);
		ascii_fold("García", p->family_ascii, sizeof p->family_ascii);
		p->female = 0;
	}
	if (strchr(o->male[0], '|') != NULL) {
		/* Romanised names: the given name's entry is found again by
		 * its display form. */
		const char *const *t = p->female ? o->female : o->male;
		size_t n = p->female ? o->n_female : o->n_male;
		for (size_t i = 0; i < n; i++) {
			display(t[i], one, sizeof one);
			if (strcmp(one, p->given) == 0)
				ascii_fold(t[i], p->given_ascii,
					   sizeof p->given_ascii);
		}
	} else {
		ascii_first(p->given, p->given_ascii, sizeof p->given_ascii);
	}

	if (p->company_only || chance(&b->r, 15)) {
		const char *const *f =
		    company_forms[below(&b->r, N(company_forms))];
		char fam[128];
		display(pick_(&b->r, o->family, o->n_family), fam, sizeof fam);
		if (p->origin == O_EL || p->origin == O_JA)
			snprintf(fam, sizeof fam, "%s", "Iberia");
		snprintf(p->company, sizeof p->company, "%s%s%s", f[0], fam,
			 f[1]);
		ascii_fold(fam, one, 64);
		snprintf(p->company_domain, sizeof p->company_domain,
			 "%s%.63s.%s", f[2], one,
			 p->home->country == C_ES ? "es" : "com");
	}

	p->has_birth = chance(&b->r, 85);
	/* Two people of one name born the same day would be one person to
	 * any duplicate check: only the planted duplicates may be. */
	for (int tries = 0; tries < 32; tries++) {
		p->birth_day = b->g->first_birth +
			       below(&b->r, (unsigned)(b->g->last_birth -
						       b->g->first_birth + 1));
		char key[320];
		snprintf(key, sizeof key, "born:%s|%s|%lld", p->given_ascii,
			 p->family_ascii, (long long)p->birth_day);
		if (!p->has_birth || seen_add(b->g, key))
			break;
	}
}

static void fill_identity(bld *b, const person *p, unsigned index,
			  Carta__V1__Identity *m)
{
	char id[DEMO_ID_SIZE];
	static const char *const statuses[] = {
	    "active", "active", "active",   "active",	"active",
	    "active", "active", "prospect", "prospect", "inactive"};

	demo_external_id(index, id);
	m->external_id = str_new(b, "%s", id);
	if (!p->company_only) {
		m->given_name = str_new(b, "%s", p->given);
		m->family_name = str_new(b, "%s", p->family);
	}
	if (p->company[0] != '\0')
		m->company = str_new(b, "%s", p->company);
	m->status = str_new(b, "%s", PICK(&b->r, statuses));
	m->home_branch = str_new(b, "%s", p->home->branch);
}

static void fill_address(bld *b, const city *c, Carta__V1__Address *a)
{
	rng *r = &b->r;
	unsigned num = between(r, 1, 180);

	switch (c->country) {
	case C_ES: {
		const char *street = PICK(r, es_streets);
		if (chance(r, 50)) {
			if (c->local == O_CA)
				street = PICK(r, ca_streets);
			else if (c->local == O_EU)
				street = PICK(r, eu_streets);
			else if (c->local == O_GL)
				street = PICK(r, gl_streets);
			else if (c == &cities[0])
				street = PICK(r, madrid_streets);
		}
		a->street =
		    str_new(b, "%s %u%s", street, num, PICK(r, es_floors));
		break;
	}
	case C_PT:
		a->street = str_new(b, "%s %u%s", PICK(r, pt_streets), num,
				    chance(r, 50) ? ", 2.º Esq." : "");
		break;
	case C_FR:
		a->street = str_new(b, "%u %s", num, PICK(r, fr_streets));
		break;
	case C_DE:
		a->street = str_new(b, "%s %u%s", PICK(r, de_streets), num,
				    chance(r, 20) ? "a" : "");
		break;
	case C_GB:
		a->street =
		    str_new(b, "%s%u %s", chance(r, 30) ? "Flat 3, " : "", num,
			    PICK(r, gb_streets));
		break;
	case C_MX:
		a->street = str_new(b, "%s %u, %s", PICK(r, mx_streets), num,
				    PICK(r, mx_colonias));
		break;
	default:
		a->street = str_new(b, "%u %s%s", num, PICK(r, us_streets),
				    chance(r, 40) ? ", Apt 4B" : "");
		break;
	}
	a->city = str_new(b, "%s", c->city);
	if (c->pcs != NULL) {
		size_t n = 0;
		while (c->pcs[n] != NULL)
			n++;
		a->postal_code = str_new(b, "%s", pick_(r, c->pcs, n));
	} else {
		a->postal_code =
		    str_new(b, "%05u", between(r, c->pc_lo, c->pc_hi));
	}
	a->region = str_new(b, "%s", c->region);
	a->country = str_new(b, "%s", country_codes[c->country]);
}

/* An unused address for the person at domain. */
static void make_email(bld *b, const person *p, const char *domain, char *out,
		       size_t cap)
{
	rng *r = &b->r;
	const char *g = p->given_ascii, *f = p->family_ascii;
	char birth[VALIDATE_DATE_SIZE];

	day_text(p->birth_day, birth);

	if (p->company_only) {
		snprintf(out, cap, "%s@%s",
			 chance(r, 50) ? "info" : "administracion", domain);
		if (seen_add(b->g, out))
			return;
	}
	for (unsigned tries = 0;; tries++) {
		char local[160];

		switch (tries == 0 ? below(r, 5) : 5) {
		case 0:
			snprintf(local, sizeof local, "%s.%s", g, f);
			break;
		case 1:
			snprintf(local, sizeof local, "%c%s", g[0], f);
			break;
		case 2:
			snprintf(local, sizeof local, "%s_%s", g, f);
			break;
		case 3:
			snprintf(local, sizeof local, "%s%s%.2s", g, f,
				 birth + 2);
			break;
		case 4:
			snprintf(local, sizeof local, "%s.%s.%u", g, f,
				 between(r, 1, 99));
			break;
		default:
			snprintf(local, sizeof local, "%s.%s%u", g, f,
				 between(r, 1, 9999));
			break;
		}
		snprintf(out, cap, "%s@%s", local, domain);
		if (seen_add(b->g, out))
			return;
	}
}

static void add_email(bld *b, Carta__V1__Contact *m, const person *p,
		      const char *domain, const char *label)
{
	char addr[200], norm[VALIDATE_EMAIL_SIZE], why[VALIDATE_ERR_SIZE];

	make_email(b, p, domain, addr, sizeof addr);
	if (validate_email(addr, norm, sizeof norm, why, sizeof why) != 0)
		return;
	Carta__V1__Email *e = msg_new(b, &carta__v1__email__descriptor);
	if (e == NULL)
		return;
	m->emails[m->n_emails++] = e;
	e->address = str_new(b, "%s", norm);
	e->label = str_new(b, "%s", label);
	e->primary = m->n_emails == 1;
}

static void fill_contact(bld *b, const person *p, Carta__V1__Contact *m)
{
	rng *r = &b->r;
	const city *c = p->home;

	m->phones = arr_new(b, 2, sizeof *m->phones);
	m->emails = arr_new(b, 2, sizeof *m->emails);
	m->addresses = arr_new(b, 2, sizeof *m->addresses);
	m->preferred_channels = arr_new(b, 3, sizeof(char *));
	if (b->oom)
		return;

	if (chance(r, 95))
		add_phone(b, m, c, !p->company_only && chance(r, 80),
			  p->company_only ? "work" : "mobile");
	if (chance(r, 25))
		add_phone(b, m, c, 0, p->company[0] ? "work" : "home");

	if (p->company[0] != '\0' && chance(r, 60))
		add_email(b, m, p, p->company_domain, "work");
	if (!p->company_only && (m->n_emails == 0 || chance(r, 20))) {
		const char *d =
		    c->country == C_ES
			? PICK(r, free_domains)
			: foreign_domains[c->country - 1][below(r, 3)];
		if (chance(r, 92))
			add_email(b, m, p, d, "personal");
	}

	if (chance(r, 90)) {
		Carta__V1__Address *a =
		    msg_new(b, &carta__v1__address__descriptor);
		if (a == NULL)
			return;
		m->addresses[m->n_addresses++] = a;
		fill_address(b, c, a);
		a->label = str_new(b, "%s", p->company_only ? "work" : "home");
		a->primary = 1;
	}
	if (c->country == C_ES && p->company[0] != '\0' && chance(r, 30)) {
		Carta__V1__Address *a =
		    msg_new(b, &carta__v1__address__descriptor);
		if (a == NULL)
			return;
		m->addresses[m->n_addresses++] = a;
		fill_address(b, c, a);
		a->label = str_new(b, "%s", "work");
	}

	/* Preferred channels the card can be reached by (the draws are the
	 * same whatever is kept, so the rest of the data does not move). */
	unsigned start = below(r, N(contact_channels));
	unsigned n = below(r, 4);
	for (unsigned i = 0; i < n; i++) {
		const char *ch =
		    contact_channels[(start + i) % N(contact_channels)];
		bool reachable = strcmp(ch, "email") == 0   ? m->n_emails > 0
				 : strcmp(ch, "post") == 0  ? m->n_addresses > 0
				 : strcmp(ch, "visit") == 0 ? true
							    : m->n_phones > 0;
		if (reachable)
			m->preferred_channels[m->n_preferred_channels++] =
			    str_new(b, "%s", ch);
	}
}

static void fill_demographics(bld *b, const person *p,
			      Carta__V1__Demographics *m)
{
	rng *r = &b->r;
	static const char *const regional[] = {"es-ES", "es-MX", "en-GB",
					       "en-US", "pt-PT", "fr-FR"};
	const char *lang = origins[p->origin].language;
	char date[VALIDATE_DATE_SIZE];

	if (p->company_only)
		return;
	if (p->has_birth) {
		day_text(p->birth_day, date);
		m->birth_date = str_new(b, "%s", date);
	}
	if (chance(r, 90))
		m->gender = str_new(b, "%s", p->female ? "f" : "m");
	if (chance(r, 60))
		m->profession = str_new(
		    b, "%s", professions[below(r, N(professions))][p->female]);
	if (chance(r, 95)) {
		/* Some with a region, as a form with a locale picker
		 * writes them. */
		if (p->origin == O_MX)
			lang = "es-MX";
		else if (p->origin == O_EN && p->home->country == C_US)
			lang = "en-US";
		else if (chance(r, 10) && p->origin == O_ES)
			lang = regional[0];
		else if (chance(r, 10) && p->origin == O_EN)
			lang = regional[2];
		m->language = str_new(b, "%s", lang);
	}
}

/* Price in the currency of the person's country, in minor units. */
static const char *currency_of(const city *c, unsigned eur_cents,
			       int64_t *minor)
{
	switch (c->country) {
	case C_GB:
		*minor = (int64_t)eur_cents * 86 / 100;
		return "GBP";
	case C_US:
		*minor = (int64_t)eur_cents * 108 / 100;
		return "USD";
	case C_MX:
		*minor = (int64_t)eur_cents * 1950 / 100;
		return "MXN";
	default:
		*minor = eur_cents;
		return "EUR";
	}
}

static int cmp_day(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void add_lines(bld *b, Carta__V1__Purchase *pu, const city *c,
		      int64_t *total, int64_t *qty, const char **cur)
{
	rng *r = &b->r;
	unsigned n = chance(r, 70) ? 1 : between(r, 2, 4);
	unsigned first = below(r, N(products));

	pu->lines = arr_new(b, n, sizeof *pu->lines);
	if (pu->lines == NULL)
		return;
	*total = 0;
	*qty = 0;
	for (unsigned i = 0; i < n; i++) {
		const product *pr = &products[(first + i * 7) % N(products)];
		Carta__V1__PurchaseLine *l =
		    msg_new(b, &carta__v1__purchase_line__descriptor);
		int64_t unit;

		if (l == NULL)
			return;
		pu->lines[pu->n_lines++] = l;
		l->code = str_new(b, "%s", pr->code);
		l->description = str_new(b, "%s", pr->name);
		l->quantity = chance(r, 80) ? 1 : between(r, 2, 3);
		*cur = currency_of(c, pr->price, &unit);
		l->unit_price_minor = unit;
		*total += unit * l->quantity;
		*qty += l->quantity;
	}
	if (n == 1)
		pu->product = str_new(b, "%s", pu->lines[0]->description);
	else
		pu->product = str_new(b, "%s y %u artículos más",
				      pu->lines[0]->description, n - 1);
}

/* A refund of an earlier purchase: what went back, positive. */
static void copy_refund(bld *b, const Carta__V1__Purchase *from,
			Carta__V1__Purchase *to)
{
	to->product = str_new(b, "%s", from->product);
	to->quantity = from->quantity;
	to->amount_minor = from->amount_minor;
	to->currency = str_new(b, "%s", from->currency);
	to->refund = 1;
	to->remarks = str_new(b, "devolución de %s", from->invoice);
	to->lines = arr_new(b, from->n_lines, sizeof *to->lines);
	if (to->lines == NULL)
		return;
	for (size_t i = 0; i < from->n_lines; i++) {
		Carta__V1__PurchaseLine *l =
		    msg_new(b, &carta__v1__purchase_line__descriptor);
		if (l == NULL)
			return;
		to->lines[to->n_lines++] = l;
		l->code = str_new(b, "%s", from->lines[i]->code);
		l->description = str_new(b, "%s", from->lines[i]->description);
		l->quantity = from->lines[i]->quantity;
		l->unit_price_minor = from->lines[i]->unit_price_minor;
	}
}

static void fill_purchases(bld *b, const person *p, Carta__V1__Card *card)
{
	rng *r = &b->r;
	demo_gen *g = b->g;
	unsigned n = chance(r, 25) ? 0 : between(r, 1, 15);
	int64_t days[15];
	unsigned invoice = between(r, 1, 600000);

	card->purchases = arr_new(b, n, sizeof *card->purchases);
	if (card->purchases == NULL)
		return;
	for (unsigned i = 0; i < n; i++)
		days[i] = g->first_purchase +
			  below(r, (unsigned)(g->last_day - g->first_purchase));
	qsort(days, n, sizeof days[0], cmp_day);

	/* Oldest first as drawn; the card lists the newest first. */
	for (unsigned i = 0; i < n; i++) {
		Carta__V1__Purchase *pu =
		    msg_new(b, &carta__v1__purchase__descriptor);
		char date[VALIDATE_DATE_SIZE];
		int refund =
		    i > 0 && chance(r, 7) && !card->purchases[n - i]->refund;

		if (pu == NULL)
			return;
		card->purchases[n - 1 - i] = pu;
		card->n_purchases++;
		day_text(days[i], date);
		pu->date = str_new(b, "%s", date);
		invoice += between(r, 1, 3000);
		pu->invoice = str_new(b, "%c-%.4s-%06u", refund ? 'R' : 'F',
				      date, invoice);
		pu->channel = str_new(b, "%s", PICK(r, purchase_channels));
		if (refund) {
			copy_refund(b, card->purchases[n - i], pu);
			continue;
		}
		const char *cur = "EUR";
		add_lines(b, pu, p->home, &pu->amount_minor, &pu->quantity,
			  &cur);
		pu->currency = str_new(b, "%s", cur);
		pu->remarks = str_new(b, "%s", PICK(r, purchase_remarks));
	}
}

/* A time on a working day's hours, between the first purchase day and
 * the last day. */
static int64_t some_time(bld *b)
{
	demo_gen *g = b->g;
	int64_t day = g->first_purchase +
		      below(&b->r, (unsigned)(g->last_day - g->first_purchase));

	return day * 86400 + between(&b->r, 8 * 3600, 20 * 3600);
}

/* Newest first; ties broken on the content so that the order never
 * depends on how qsort treats equal items. */
static int cmp_interaction(const void *a, const void *b)
{
	const Carta__V1__Interaction *x = *(Carta__V1__Interaction *const *)a;
	const Carta__V1__Interaction *y = *(Carta__V1__Interaction *const *)b;
	int d = (y->at > x->at) - (y->at < x->at);

	if (d == 0)
		d = strcmp(x->summary, y->summary);
	if (d == 0)
		d = strcmp(x->channel, y->channel);
	if (d == 0)
		d = (x->satisfaction > y->satisfaction) -
		    (x->satisfaction < y->satisfaction);
	return d;
}

static void fill_history(bld *b, Carta__V1__Card *card)
{
	rng *r = &b->r;
	unsigned n = chance(r, 35) ? 0 : between(r, 1, 6);

	card->interactions = arr_new(b, n, sizeof *card->interactions);
	for (unsigned i = 0; card->interactions && i < n; i++) {
		Carta__V1__Interaction *it =
		    msg_new(b, &carta__v1__interaction__descriptor);
		const char *const *s = summaries[below(r, N(summaries))];

		if (it == NULL)
			return;
		card->interactions[card->n_interactions++] = it;
		it->at = some_time(b);
		it->channel = str_new(b, "%s", PICK(r, interaction_channels));
		it->summary = str_new(b, "%s", s[0]);
		it->outcome = str_new(b, "%s", s[1]);
		if (chance(r, 60))
			it->satisfaction = between(r, 1, 5);
	}
	if (card->interactions != NULL)
		qsort(card->interactions, card->n_interactions,
		      sizeof *card->interactions, cmp_interaction);

	n = chance(r, 60) ? 0 : between(r, 1, 2);
	card->notes = arr_new(b, n, sizeof *card->notes);
	for (unsigned i = 0; card->notes && i < n; i++) {
		Carta__V1__Note *no = msg_new(b, &carta__v1__note__descriptor);
		if (no == NULL)
			return;
		card->notes[card->n_notes++] = no;
		no->at = some_time(b);
		no->text = str_new(
		    b, "%s",
		    note_texts[(below(r, N(note_texts)) + i) % N(note_texts)]);
	}
}

static void add_pref(bld *b, Carta__V1__Card *card, const char *key,
		     const char *value)
{
	Carta__V1__Preference *pr =
	    msg_new(b, &carta__v1__preference__descriptor);

	if (pr == NULL)
		return;
	card->preferences[card->n_preferences++] = pr;
	pr->key = str_new(b, "%s", key);
	pr->value = str_new(b, "%s", value);
}

static void fill_prefs_consents(bld *b, Carta__V1__Card *card)
{
	rng *r = &b->r;

	card->preferences = arr_new(b, 4, sizeof *card->preferences);
	if (card->preferences == NULL)
		return;
	if (chance(r, 40))
		add_pref(b, card, "colour", PICK(r, colours));
	if (chance(r, 35))
		add_pref(b, card, "talla", PICK(r, sizes));
	if (chance(r, 25))
		add_pref(b, card, "newsletter_format",
			 PICK(r, newsletter_formats));
	if (chance(r, 15))
		add_pref(b, card, "horario_contacto", PICK(r, contact_hours));

	/* Each (purpose, channel) at most once: a random subset of the
	 * eight pairs. */
	unsigned mask = chance(r, 30) ? 0 : below(r, 256);
	card->consents = arr_new(b, 8, sizeof *card->consents);
	for (unsigned k = 0; card->consents && k < 8; k++) {
		if (!(mask & (1u << k)) || chance(r, 50))
			continue;
		Carta__V1__Consent *c =
		    msg_new(b, &carta__v1__consent__descriptor);
		if (c == NULL)
			return;
		card->consents[card->n_consents++] = c;
		c->purpose = str_new(b, "%s", consent_purposes[k / 4]);
		c->channel = str_new(b, "%s", consent_channels[k % 4]);
		c->state = chance(r, 80)
			       ? CARTA__V1__CONSENT_STATE__CONSENT_GRANTED
			       : CARTA__V1__CONSENT_STATE__CONSENT_WITHDRAWN;
		c->at = some_time(b);
		c->source = str_new(b, "%s", PICK(r, consent_sources));
	}
}

/* The lists a card has of its own (also a duplicate's). */
static void fill_lists(bld *b, const person *p, Carta__V1__Card *card)
{
	fill_purchases(b, p, card);
	fill_history(b, card);
	fill_prefs_consents(b, card);
}

/* ---- Duplicates -------------------------------------------------------- */

/* A normalised copy of s (utf8proc options), or with upper != 0 its
 * upper case code point by code point (options unused; NFC stays NFC for
 * the scripts here); NULL when out of memory or on bad UTF-8. */
static char *remap(const char *s, utf8proc_option_t options, int upper)
{
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t n;

	if (!upper) {
		n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
				 options | UTF8PROC_NULLTERM);
		return n < 0 ? NULL : (char *)out;
	}
	size_t len = strlen(s), o = 0;
	char *u = malloc(len * 4 + 1);
	for (size_t i = 0; u != NULL && i < len;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k =
		    utf8proc_iterate((const utf8proc_uint8_t *)s + i,
				     (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0) {
			free(u);
			return NULL;
		}
		i += (size_t)k;
		o += (size_t)utf8proc_encode_char(utf8proc_toupper(cp),
						  (utf8proc_uint8_t *)u + o);
	}
	if (u != NULL)
		u[o] = '\0';
	return u;
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* Replaces *slot with t (taking it) when t differs; 1 when it did. */
static int take_if_differs(char **slot, char *t)
{
	if (t == NULL || strcmp(t, *slot) == 0) {
		free(t);
		return 0;
	}
	if (*slot != protobuf_c_empty_string)
		free(*slot);
	*slot = t;
	return 1;
}

/* Varies the names of the identity one way, trying the ways from a
 * random start until one changes something. */
static const char *vary_names(bld *b, Carta__V1__Identity *id)
{
	static const char *const ways[] = {"no_accents", "upper_case", "nfd",
					   "swapped"};
	unsigned start = below(&b->r, N(ways));

	for (unsigned k = 0; k < N(ways); k++) {
		unsigned w = (start + k) % N(ways);
		char *g = NULL, *f = NULL;

		if (w == 0) {
			/* NFC with the marks stripped (utf8proc refuses
			 * DECOMPOSE with COMPOSE; COMPOSE decomposes
			 * first). */
			utf8proc_option_t o =
			    UTF8PROC_COMPOSE | UTF8PROC_STRIPMARK;
			g = remap(id->given_name, o, 0);
			f = remap(id->family_name, o, 0);
			if (g == NULL || f == NULL || !is_ascii(g) ||
			    !is_ascii(f)) {
				free(g);
				free(f);
				continue;
			}
		} else if (w == 1 || w == 2) {
			g = remap(id->given_name, UTF8PROC_DECOMPOSE, w == 1);
			f = remap(id->family_name, UTF8PROC_DECOMPOSE, w == 1);
		} else {
			if (strcmp(id->given_name, id->family_name) == 0)
				continue;
			char *t = id->given_name;
			id->given_name = id->family_name;
			id->family_name = t;
			return ways[w];
		}
		if (g == NULL || f == NULL) {
			free(g);
			free(f);
			b->oom = g == NULL || f == NULL;
			return NULL;
		}
		int changed = take_if_differs(&id->given_name, g);
		changed |= take_if_differs(&id->family_name, f);
		if (changed)
			return ways[w];
	}
	return NULL;
}

/* Another way to type the same number, different from how the original
 * typed it; 0 when none was found. */
static int retype_phone(bld *b, Carta__V1__Phone *p)
{
	char typed[4][48], e164[VALIDATE_E164_SIZE], why[VALIDATE_ERR_SIZE];
	const char *num = p->number, *x = num + 3;
	unsigned n = 0, s;

	if (strncmp(num, "+34", 3) == 0 && strlen(num) == 12) {
		snprintf(typed[n++], sizeof typed[0], "%.3s %.2s %.2s %.2s", x,
			 x + 3, x + 5, x + 7);
		snprintf(typed[n++], sizeof typed[0], "0034 %.3s-%.3s-%.3s", x,
			 x + 3, x + 6);
		snprintf(typed[n++], sizeof typed[0], "+34%s", x);
		snprintf(typed[n++], sizeof typed[0], "%.3s.%.3s.%.3s", x,
			 x + 3, x + 6);
	} else {
		/* Abroad: with the international prefix dialled from Spain,
		 * or written as E.164. */
		snprintf(typed[n++], sizeof typed[0], "00%s", num + 1);
		snprintf(typed[n++], sizeof typed[0], "%s", num);
	}

	s = below(&b->r, n);
	for (unsigned k = 0; k < n; k++) {
		const char *t = typed[(s + k) % n];

		if (strcmp(t, p->original) != 0 &&
		    validate_phone(t, "ES", e164, sizeof e164, why,
				   sizeof why) == 0 &&
		    strcmp(e164, num) == 0) {
			str_set(b, &p->original, t);
			return 1;
		}
	}
	return 0;
}

static const char *vary_contact(bld *b, Carta__V1__Contact *c)
{
	static const char *const ways[] = {"phone_format", "email_upper",
					   "email_tag"};
	unsigned start = below(&b->r, N(ways));

	for (unsigned k = 0; c != NULL && k < N(ways); k++) {
		unsigned w = (start + k) % N(ways);

		if (w == 0 && c->n_phones > 0 && retype_phone(b, c->phones[0]))
			return ways[w];
		if (w != 0 && c->n_emails > 0) {
			Carta__V1__Email *e = c->emails[0];
			char addr[VALIDATE_EMAIL_SIZE + 16];
			const char *at = strchr(e->address, '@');

			if (at == NULL || !is_ascii(e->address))
				continue;
			if (w == 1) {
				size_t i;
				for (i = 0;
				     e->address[i] && i + 1 < sizeof addr;
				     i++) {
					char ch = e->address[i];
					addr[i] = (ch >= 'a' && ch <= 'z')
						      ? (char)(ch - 'a' + 'A')
						      : ch;
				}
				addr[i] = '\0';
			} else {
				snprintf(addr, sizeof addr, "%.*s+%s%s",
					 (int)(at - e->address), e->address,
					 chance(&b->r, 50) ? "tienda" : "news",
					 at);
			}
			if (strcmp(addr, e->address) == 0)
				continue;
			str_set(b, &e->address, addr);
			return ways[w];
		}
	}
	return NULL;
}

/* The duplicate of the packed original: its identity, contact and
 * demographics, varied, with lists of its own. */
static int make_duplicate(demo_gen *g, unsigned k, const person *p,
			  Carta__V1__Card **out, demo_info *info)
{
	unsigned d = g->dup_at[k];
	bld b = {g, rng_for(g->seed, d, 1), 0};
	Carta__V1__Card *c;
	char id[DEMO_ID_SIZE];
	const char *v1, *v2;

	c = carta__v1__card__unpack(NULL, g->orig_len[k], g->orig_buf[k]);
	if (c == NULL)
		return CARTA_ENOMEM;
	for (size_t i = 0; i < c->n_purchases; i++)
		carta__v1__purchase__free_unpacked(c->purchases[i], NULL);
	for (size_t i = 0; i < c->n_interactions; i++)
		carta__v1__interaction__free_unpacked(c->interactions[i], NULL);
	for (size_t i = 0; i < c->n_notes; i++)
		carta__v1__note__free_unpacked(c->notes[i], NULL);
	for (size_t i = 0; i < c->n_preferences; i++)
		carta__v1__preference__free_unpacked(c->preferences[i], NULL);
	for (size_t i = 0; i < c->n_consents; i++)
		carta__v1__consent__free_unpacked(c->consents[i], NULL);
	free(c->purchases);
	free(c->interactions);
	free(c->notes);
	free(c->preferences);
	free(c->consents);
	c->purchases = NULL;
	c->interactions = NULL;
	c->notes = NULL;
	c->preferences = NULL;
	c->consents = NULL;
	c->n_purchases = c->n_interactions = c->n_notes = 0;
	c->n_preferences = c->n_consents = 0;

	demo_external_id(d, id);
	str_set(&b, &c->identity->external_id, id);
	v1 = vary_names(&b, c->identity);
	v2 = vary_contact(&b, c->contact);
	fill_lists(&b, p, c);
	if (b.oom) {
		carta__v1__card__free_unpacked(c, NULL);
		return CARTA_ENOMEM;
	}

	info->is_duplicate = 1;
	snprintf(info->varied, sizeof info->varied, "%s%s%s", v1 ? v1 : "",
		 v1 && v2 ? "," : "", v2 ? v2 : "");
	*out = c;
	return 1;
}

/* ---- The API ----------------------------------------------------------- */

unsigned demo_duplicates(unsigned count)
{
	if (count < 10)
		return 0;
	if (count < 100)
		return 1;
	return count / 100 < 3 ? 3 : count / 100;
}

void demo_external_id(unsigned index, char out[DEMO_ID_SIZE])
{
	snprintf(out, DEMO_ID_SIZE, "DEMO-%06u", index + 1);
}

int demo_gen_new(uint64_t seed, unsigned count, demo_gen **out)
{
	demo_gen *g;
	rng r = rng_for(seed, 0, 2);

	*out = NULL;
	if (count > DEMO_COUNT_MAX)
		return CARTA_EINVAL;
	g = calloc(1, sizeof *g);
	if (g == NULL)
		return CARTA_ENOMEM;
	g->seed = seed;
	g->count = count;
	g->first_purchase = day_number(2019, 1, 1);
	g->last_day = day_number(2026, 11, 30);
	g->first_birth = day_number(1940, 1, 1);
	g->last_birth = day_number(2006, 12, 31);
	for (size_t i = 0; i < N(cities); i++)
		g->city_total += cities[i].weight;

	/* Room for every card's emails and phones (4 at most, 2 on
	 * average) at a load well under 1. */
	g->seen_cap = 64;
	while (g->seen_cap < (size_t)count * 8)
		g->seen_cap *= 2;
	g->seen = calloc(g->seen_cap, sizeof *g->seen);

	/* One duplicate per stretch of the run, late in it, of an earlier
	 * card of the same stretch. */
	g->n_dups = demo_duplicates(count);
	g->dup_at = calloc(g->n_dups + 1, sizeof *g->dup_at);
	g->orig_at = calloc(g->n_dups + 1, sizeof *g->orig_at);
	g->orig_buf = calloc(g->n_dups + 1, sizeof *g->orig_buf);
	g->orig_len = calloc(g->n_dups + 1, sizeof *g->orig_len);
	if (g->seen == NULL || g->dup_at == NULL || g->orig_at == NULL ||
	    g->orig_buf == NULL || g->orig_len == NULL) {
		demo_gen_free(g);
		return CARTA_ENOMEM;
	}
	for (unsigned k = 0; k < g->n_dups; k++) {
		unsigned s = count / g->n_dups, lo = k * s;
		g->dup_at[k] = lo + s / 2 + below(&r, s - s / 2);
		g->orig_at[k] = lo + below(&r, s / 2);
	}
	*out = g;
	return 0;
}

/* The duplicate at index d, if any: its position in dup_at. */
static int dup_slot(const demo_gen *g, unsigned index, int originals)
{
	for (unsigned k = 0; k < g->n_dups; k++)
		if ((originals ? g->orig_at[k] : g->dup_at[k]) == index)
			return (int)k;
	return -1;
}

int demo_gen_next(demo_gen *g, Carta__V1__Card **card, demo_info *info)
{
	unsigned index = g->next;
	bld b = {g, rng_for(g->seed, index, 0), 0};
	Carta__V1__Card *c = NULL;
	person p;
	int k;

	*card = NULL;
	memset(info, 0, sizeof *info);
	if (index >= g->count)
		return 0;
	g->next++;

	/* A duplicate is its original's person, drawn again; the packed
	 * original is kept until then. */
	k = dup_slot(g, index, 0);
	if (k >= 0) {
		unsigned o = g->orig_at[k];
		bld ob = {g, rng_for(g->seed, o, 0), 0};
		int rv;

		draw_person(&ob, o, 0, &p);
		rv = make_duplicate(g, (unsigned)k, &p, card, info);
		free(g->orig_buf[k]);
		g->orig_buf[k] = NULL;
		info->original = o;
		return rv;
	}
	draw_person(&b, index, dup_slot(g, index, 1) < 0, &p);

	c = msg_new(&b, &carta__v1__card__descriptor);
	if (c == NULL)
		return CARTA_ENOMEM;
	c->identity = msg_new(&b, &carta__v1__identity__descriptor);
	c->contact = msg_new(&b, &carta__v1__contact__descriptor);
	c->demographics = msg_new(&b, &carta__v1__demographics__descriptor);
	if (!b.oom) {
		fill_identity(&b, &p, index, c->identity);
		fill_contact(&b, &p, c->contact);
		fill_demographics(&b, &p, c->demographics);
		fill_lists(&b, &p, c);
	}
	if (b.oom)
		goto oom;

	k = dup_slot(g, index, 1);
	if (k >= 0) {
		size_t len = carta__v1__card__get_packed_size(c);

		g->orig_buf[k] = malloc(len ? len : 1);
		if (g->orig_buf[k] == NULL)
			goto oom;
		g->orig_len[k] = carta__v1__card__pack(c, g->orig_buf[k]);
	}
	*card = c;
	return 1;

oom:
	carta__v1__card__free_unpacked(c, NULL);
	return CARTA_ENOMEM;
}

void demo_gen_free(demo_gen *g)
{
	if (g == NULL)
		return;
	if (g->orig_buf != NULL)
		for (unsigned i = 0; i < g->n_dups; i++)
			free(g->orig_buf[i]);
	free(g->orig_buf);
	free(g->orig_len);
	free(g->dup_at);
	free(g->orig_at);
	free(g->seen);
	free(g);
}
