/* SPDX-License-Identifier: MIT */
/* Host-file parser: every keyword, every default, every error with its line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "kmod/sim/sim.h"

static struct sim_config *parse_ok(const char *text)
{
	struct sim_config *cfg = calloc(1, sizeof(*cfg));
	char err[256] = "";

	assert_non_null(cfg);
	if (sim_config_parse(text, "t.conf", cfg, err, sizeof(err)) != 0)
		fail_msg("unexpected parse error: %s", err);
	return cfg;
}

/* Asserts that text is refused with exactly the message want. */
static void parse_fails(const char *text, const char *want)
{
	_cleanup_free_ struct sim_config *cfg = calloc(1, sizeof(*cfg));
	char err[256] = "";

	assert_non_null(cfg);
	cfg->max_adapter = 4242;
	assert_int_equal(sim_config_parse(text, "t.conf", cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	/* A refused file leaves the output alone. */
	assert_int_equal(cfg->max_adapter, 4242);
}

static struct idset ids(int first, ...)
{
	struct idset s = IDSET_EMPTY;
	va_list ap;

	va_start(ap, first);
	for (int id = first; id >= 0; id = va_arg(ap, int))
		idset_add(&s, (unsigned) id);
	va_end(ap);
	return s;
}

static void assert_idset(const struct idset *got, const struct idset *want)
{
	char g[IDSET_MASK_HEX_LEN + 1], w[IDSET_MASK_HEX_LEN + 1];

	assert_string_equal(idset_format_mask_hex(got, g), idset_format_mask_hex(want, w));
}

static void test_defaults(void **state)
{
	_cleanup_free_ struct sim_config *cfg = parse_ok("");
	struct idset all = idset_range(0, 255), none = IDSET_EMPTY;

	assert_int_equal(cfg->kernel_major, 6);
	assert_int_equal(cfg->kernel_minor, 10);
	assert_int_equal(cfg->max_adapter, 63);
	assert_int_equal(cfg->max_domain, 15);
	assert_idset(&cfg->apmask, &all);
	assert_idset(&cfg->aqmask, &all);
	assert_idset(&cfg->usage_domains, &none);
	assert_idset(&cfg->control_domains, &none);
	assert_true(cfg->vfio_ap_loaded);
	assert_int_equal(cfg->n_cards, 0);
	assert_int_equal(cfg->n_mdevs, 0);
}

static void test_comments_and_blanks(void **state)
{
	_cleanup_free_ struct sim_config *cfg =
	    parse_ok("# a comment\n\n   \t\n\r\nkernel 5.15 # trailing comment\n#kernel 6.1\n");

	assert_int_equal(cfg->kernel_major, 5);
	assert_int_equal(cfg->kernel_minor, 15);
}

static void test_kernel(void **state)
{
	_cleanup_free_ struct sim_config *a = parse_ok("kernel 6.1");
	_cleanup_free_ struct sim_config *b = parse_ok("kernel\t4.19\n");

	assert_int_equal(a->kernel_major, 6);
	assert_int_equal(a->kernel_minor, 1);
	assert_int_equal(b->kernel_major, 4);
	assert_int_equal(b->kernel_minor, 19);
	parse_fails("kernel\n", "t.conf:1: 'kernel' needs a value");
	parse_fails("\nkernel 6\n",
		    "t.conf:2: bad kernel version '6' (use MAJOR.MINOR, e.g. 6.10)");
	parse_fails("kernel 6.x",
		    "t.conf:1: bad kernel version '6.x' (use MAJOR.MINOR, e.g. 6.10)");
	parse_fails("kernel 6.1.2",
		    "t.conf:1: bad kernel version '6.1.2' (use MAJOR.MINOR, e.g. 6.10)");
	parse_fails("kernel 6.10 lts", "t.conf:1: 'kernel': unexpected 'lts' after the value");
	parse_fails("kernel 4.18",
		    "t.conf:1: kernel 4.18 is too old: the AP bus masks appeared in 4.19");
	parse_fails("kernel 6.1\nkernel 6.2", "t.conf:2: 'kernel' already given on line 1");
}

static void test_max_ids(void **state)
{
	_cleanup_free_ struct sim_config *cfg = parse_ok("max-adapter 0xff\nmax-domain 84\n");

	assert_int_equal(cfg->max_adapter, 255);
	assert_int_equal(cfg->max_domain, 84);
	parse_fails("max-adapter 256", "t.conf:1: id '256' out of range (ids are 0 to 255)");
	parse_fails("max-domain 0x", "t.conf:1: bad number '0x' (use decimal, or hex with 0x)");
	parse_fails("max-domain -1", "t.conf:1: bad number '-1' (use decimal, or hex with 0x)");
	parse_fails("max-domain", "t.conf:1: 'max-domain' needs a value");
}

static void test_cards(void **state)
{
	_cleanup_free_ struct sim_config *cfg = parse_ok("max-adapter 255\n"
							 "card 0x05 CEX5C\n"
							 "card 08 CEX4A offline\n"
							 "card 10-11 CEX8P deconfigured offline\n"
							 "card 0xff,12 CEX7C deconfigured\n");

	assert_int_equal(cfg->n_cards, 6);
	assert_int_equal(cfg->cards[0].id, 5);
	assert_int_equal(cfg->cards[0].gen, 5);
	assert_int_equal(cfg->cards[0].mode, 'C');
	assert_true(cfg->cards[0].config);
	assert_true(cfg->cards[0].online);
	/* Leading zeros are decimal, not octal. */
	assert_int_equal(cfg->cards[1].id, 8);
	assert_int_equal(cfg->cards[1].gen, 4);
	assert_int_equal(cfg->cards[1].mode, 'A');
	assert_true(cfg->cards[1].config);
	assert_false(cfg->cards[1].online);
	assert_int_equal(cfg->cards[2].id, 10);
	assert_int_equal(cfg->cards[3].id, 11);
	assert_int_equal(cfg->cards[3].gen, 8);
	assert_int_equal(cfg->cards[3].mode, 'P');
	assert_false(cfg->cards[3].config);
	assert_false(cfg->cards[3].online);
	/* A list is expanded in ascending id order. */
	assert_int_equal(cfg->cards[4].id, 12);
	assert_int_equal(cfg->cards[5].id, 255);
	assert_false(cfg->cards[5].config);
	assert_true(cfg->cards[5].online);
}

static void test_card_errors(void **state)
{
	parse_fails("card 5", "t.conf:1: 'card' needs an id and a type, e.g. 'card 5 CEX5C'");
	parse_fails("# seed\n\n\n\n\n\ncard 5 CEX5X\n",
		    "t.conf:7: unknown card mode 'X' (use A, C or P)");
	parse_fails("card 5 CEX9C", "t.conf:1: unsupported generation CEX9 (use CEX4 to CEX8)");
	parse_fails("card 5 CEX3A", "t.conf:1: unsupported generation CEX3 (use CEX4 to CEX8)");
	parse_fails("card 5 cex5c",
		    "t.conf:1: unknown card type 'cex5c' (use CEX<generation><mode>, e.g. CEX7C)");
	parse_fails("card 5 CEX5CC",
		    "t.conf:1: unknown card type 'CEX5CC' (use CEX<generation><mode>, e.g. CEX7C)");
	parse_fails("card 5 CEX5C busy",
		    "t.conf:1: card: unknown flag 'busy' (use offline or deconfigured)");
	parse_fails("card 5x CEX5C", "t.conf:1: bad number '5x' (use decimal, or hex with 0x)");
	parse_fails("card 6-5 CEX5C", "t.conf:1: empty range '6-5'");
	parse_fails("card 5 CEX5C\ncard 0x05 CEX5A\n",
		    "t.conf:2: card 5 already defined on line 1");
	parse_fails("card 1-3 CEX5C\ncard 3-4 CEX5A\n",
		    "t.conf:2: card 3 already defined on line 1");
	/* The max may come later in the file: the line named is the card's. */
	parse_fails("card 5 CEX5C\ncard 64 CEX5A\nmax-adapter 63\n",
		    "t.conf:2: card 64 is above max-adapter 63");
	parse_fails("card 64 CEX5A\n", "t.conf:1: card 64 is above max-adapter 63");
}

static void test_domains(void **state)
{
	_cleanup_free_ struct sim_config *cfg = parse_ok("max-domain 255\n"
							 "usage-domains 0x04 0x47,0xab, 255\n"
							 "control-domains 1-3,0x10\n");
	struct idset usage = ids(4, 0x47, 0xab, 0xff, -1);
	struct idset control = ids(1, 2, 3, 4, 0x10, 0x47, 0xab, 0xff, -1);

	assert_idset(&cfg->usage_domains, &usage);
	/* Usage domains are control domains too. */
	assert_idset(&cfg->control_domains, &control);

	parse_fails("usage-domains", "t.conf:1: empty id list");
	parse_fails("usage-domains ,", "t.conf:1: empty id list");
	parse_fails("usage-domains 1-", "t.conf:1: bad number '' (use decimal, or hex with 0x)");
	parse_fails("usage-domains 1 2 z",
		    "t.conf:1: bad number 'z' (use decimal, or hex with 0x)");
	parse_fails("usage-domains 300", "t.conf:1: id '300' out of range (ids are 0 to 255)");
	parse_fails("\nusage-domains 4 16\n", "t.conf:2: usage domain 16 is above max-domain 15");
	parse_fails("control-domains 4\nmax-domain 3\n",
		    "t.conf:1: control domain 4 is above max-domain 3");
	parse_fails("usage-domains 1\nusage-domains 2\n",
		    "t.conf:2: 'usage-domains' already given on line 1");
}

static void test_masks(void **state)
{
	_cleanup_free_ struct sim_config *a = parse_ok("apmask 0-4,7-255\naqmask none\n");
	_cleanup_free_ struct sim_config *b = parse_ok("apmask all\naqmask 0x47 1\n");
	struct idset ap = idset_range(0, 255), none = IDSET_EMPTY, all = idset_range(0, 255);
	struct idset aq = ids(1, 0x47, -1);

	idset_del(&ap, 5);
	idset_del(&ap, 6);
	assert_idset(&a->apmask, &ap);
	assert_idset(&a->aqmask, &none);
	assert_idset(&b->apmask, &all);
	assert_idset(&b->aqmask, &aq);
	/* Masks are 256 bits whatever the max ids: bits above them are fine. */
	parse_fails("apmask", "t.conf:1: empty id list");
	parse_fails("aqmask all 5", "t.conf:1: bad number 'all' (use decimal, or hex with 0x)");
	parse_fails("apmask none\napmask all\n", "t.conf:2: 'apmask' already given on line 1");
}

static void test_vfio_ap(void **state)
{
	_cleanup_free_ struct sim_config *a = parse_ok("vfio_ap unloaded\n");
	_cleanup_free_ struct sim_config *b = parse_ok("vfio_ap loaded\n");

	assert_false(a->vfio_ap_loaded);
	assert_true(b->vfio_ap_loaded);
	parse_fails("vfio_ap yes",
		    "t.conf:1: vfio_ap: unknown state 'yes' (use loaded or unloaded)");
	parse_fails("vfio_ap", "t.conf:1: 'vfio_ap' needs a value");
}

#define UUID1 "0fc8e9de-6de3-4c44-9ae4-a1ff3a8e4a11"
#define UUID2 "5B3F0A5B-C3B0-4F21-8B0C-7B6A4C9E2D13"

static void test_mdevs(void **state)
{
	_cleanup_free_ struct sim_config *cfg =
	    parse_ok("max-domain 255\n"
		     "apmask 0-4,7-255\n"
		     "aqmask 0-3,5-0x46,0x48-0xaa,0xac-0xfe\n"
		     "mdev " UUID1 " adapters=5,6 domains=4,0xab control-domains=4\n"
		     "mdev " UUID2 " adapters=5 domains=0x47,0xff\n"
		     "mdev 00000000-0000-0000-0000-000000000000\n");
	struct idset a1 = ids(5, 6, -1), d1 = ids(4, 0xab, -1), c1 = ids(4, -1);
	struct idset a2 = ids(5, -1), d2 = ids(0x47, 0xff, -1), none = IDSET_EMPTY;

	assert_int_equal(cfg->n_mdevs, 3);
	assert_string_equal(cfg->mdevs[0].uuid, UUID1);
	assert_idset(&cfg->mdevs[0].adapters, &a1);
	assert_idset(&cfg->mdevs[0].domains, &d1);
	assert_idset(&cfg->mdevs[0].control_domains, &c1);
	/* Stored in lowercase, as the kernel names the directory. */
	assert_string_equal(cfg->mdevs[1].uuid, "5b3f0a5b-c3b0-4f21-8b0c-7b6a4c9e2d13");
	assert_idset(&cfg->mdevs[1].adapters, &a2);
	assert_idset(&cfg->mdevs[1].domains, &d2);
	assert_idset(&cfg->mdevs[1].control_domains, &none);
	assert_idset(&cfg->mdevs[2].adapters, &none);
}

static void test_mdev_errors(void **state)
{
	parse_fails("mdev", "t.conf:1: 'mdev' needs a UUID");
	parse_fails("mdev 0fc8e9de-6de3-4c44-9ae4-a1ff3a8e4a1",
		    "t.conf:1: bad uuid '0fc8e9de-6de3-4c44-9ae4-a1ff3a8e4a1' (use 8-4-4-4-12 hex "
		    "digits)");
	parse_fails("mdev 0fc8e9de+6de3-4c44-9ae4-a1ff3a8e4a11",
		    "t.conf:1: bad uuid '0fc8e9de+6de3-4c44-9ae4-a1ff3a8e4a11' (use 8-4-4-4-12 hex "
		    "digits)");
	parse_fails("mdev 0fc8e9de-6de3-4c44-9ae4-a1ff3a8e4a1g",
		    "t.conf:1: bad uuid '0fc8e9de-6de3-4c44-9ae4-a1ff3a8e4a1g' (use 8-4-4-4-12 hex "
		    "digits)");
	parse_fails("mdev " UUID1 "\nmdev "
		    "0FC8E9DE-6DE3-4C44-9AE4-A1FF3A8E4A11"
		    "\n",
		    "t.conf:2: mdev " UUID1 " already defined on line 1");
	parse_fails("mdev " UUID1 " adapters 5",
		    "t.conf:1: mdev: expected KEY=LIST, got 'adapters'");
	parse_fails(
	    "mdev " UUID1 " queues=5",
	    "t.conf:1: mdev: unknown key 'queues' (use adapters, domains or control-domains)");
	parse_fails("mdev " UUID1 " adapters=", "t.conf:1: empty id list");
	parse_fails("apmask none\naqmask none\nmdev " UUID1 " adapters=64\n",
		    "t.conf:3: mdev " UUID1 ": adapter 64 is above max-adapter 63");
	parse_fails("apmask none\naqmask none\nmdev " UUID1 " domains=16\n",
		    "t.conf:3: mdev " UUID1 ": domain 16 is above max-domain 15");
	parse_fails("mdev " UUID1 " control-domains=0x10\n",
		    "t.conf:1: mdev " UUID1 ": control domain 16 is above max-domain 15");
	/* The kernel's rules: no queue of the host pool, no queue of another mdev. */
	parse_fails("apmask 5-255\nmdev " UUID1 " adapters=5,6 domains=4,0xa\n",
		    "t.conf:2: mdev " UUID1
		    ": queue 05.0004 is in the host pool (apmask x aqmask)");
	parse_fails("apmask none\n"
		    "mdev " UUID1 " adapters=5,6 domains=4\n"
		    "# another\n"
		    "mdev " UUID2 " adapters=1,6 domains=3,4\n",
		    "t.conf:4: mdev 5b3f0a5b-c3b0-4f21-8b0c-7b6a4c9e2d13: queue 06.0004 is also in "
		    "mdev " UUID1 " (line 2)");
	parse_fails("vfio_ap unloaded\napmask none\nmdev " UUID1 "\n",
		    "t.conf:3: mdev " UUID1 " needs vfio_ap loaded");
}

static void test_limits(void **state)
{
	_cleanup_free_ char *text = malloc(SIM_MAX_MDEVS * 64 + 64);
	char want[128];
	size_t len = 0;

	assert_non_null(text);
	for (unsigned i = 0; i <= SIM_MAX_MDEVS; i++)
		len += (size_t) sprintf(text + len, "mdev 00000000-0000-0000-0000-%012x\n", i);
	snprintf(want, sizeof(want), "t.conf:%d: too many mdevs (at most %d)", SIM_MAX_MDEVS + 1,
		 SIM_MAX_MDEVS);
	parse_fails(text, want);
	parse_fails("max-adapter 0x00000000000000000000000000000005",
		    "t.conf:1: 'max-adapter': value too long");
}

static void test_unknown_keyword(void **state)
{
	parse_fails("kernel 6.10\ncards 5 CEX5C\n", "t.conf:2: unknown keyword 'cards'");
	parse_fails("Kernel 6.10\n", "t.conf:1: unknown keyword 'Kernel'");
}

static void test_error_buffer(void **state)
{
	_cleanup_free_ struct sim_config *cfg = calloc(1, sizeof(*cfg));
	char small[8];

	assert_non_null(cfg);
	/* No buffer, or a short one: still -EINVAL, and the message is cut, not overrun. */
	assert_int_equal(sim_config_parse("bogus", "t.conf", cfg, NULL, 0), -EINVAL);
	assert_int_equal(sim_config_parse("bogus", "t.conf", cfg, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "t.conf:");
}

static char *source_path(const char *rel)
{
	const char *root = getenv("ZAPFS_SOURCE_ROOT");
	char *path;

	assert_non_null(root);
	assert_true(asprintf(&path, "%s/%s", root, rel) > 0);
	return path;
}

static struct sim_config *load_ok(const char *rel)
{
	_cleanup_free_ char *path = source_path(rel);
	struct sim_config *cfg = calloc(1, sizeof(*cfg));
	char err[256] = "";

	assert_non_null(cfg);
	if (sim_config_load(path, cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return cfg;
}

static void assert_seed_lpar(const struct sim_config *cfg)
{
	struct idset doms = ids(4, 0x47, 0xab, 0xff, -1), all = idset_range(0, 255);

	assert_int_equal(cfg->max_adapter, 63);
	assert_int_equal(cfg->max_domain, 255);
	assert_int_equal(cfg->n_cards, 2);
	assert_int_equal(cfg->cards[0].id, 5);
	assert_int_equal(cfg->cards[0].gen, 5);
	assert_int_equal(cfg->cards[0].mode, 'C');
	assert_int_equal(cfg->cards[1].id, 6);
	assert_int_equal(cfg->cards[1].gen, 5);
	assert_int_equal(cfg->cards[1].mode, 'A');
	assert_true(cfg->cards[0].config && cfg->cards[0].online);
	assert_true(cfg->cards[1].config && cfg->cards[1].online);
	assert_idset(&cfg->usage_domains, &doms);
	assert_idset(&cfg->control_domains, &doms);
	assert_idset(&cfg->apmask, &all);
	assert_idset(&cfg->aqmask, &all);
	assert_true(cfg->vfio_ap_loaded);
	assert_int_equal(cfg->n_mdevs, 0);
}

static void test_shipped_seed(void **state)
{
	_cleanup_free_ struct sim_config *cfg = load_ok("contrib/hosts/seed.conf");
	_cleanup_free_ struct sim_config *old = load_ok("contrib/hosts/old.conf");

	assert_int_equal(cfg->kernel_major, 6);
	assert_int_equal(cfg->kernel_minor, 10);
	assert_seed_lpar(cfg);
	assert_int_equal(old->kernel_major, 5);
	assert_int_equal(old->kernel_minor, 15);
	assert_seed_lpar(old);
}

static void test_shipped_large(void **state)
{
	_cleanup_free_ struct sim_config *cfg = load_ok("contrib/hosts/large.conf");
	struct idset doms = idset_range(0, 84);

	assert_int_equal(cfg->max_adapter, 255);
	assert_int_equal(cfg->max_domain, 84);
	assert_int_equal(cfg->n_cards, 256);
	for (unsigned i = 0; i < 256; i++)
		assert_int_equal(cfg->cards[i].id, i);
	assert_int_equal(cfg->cards[0].mode, 'C');
	assert_int_equal(cfg->cards[128].mode, 'P');
	assert_int_equal(cfg->cards[128].gen, 7);
	assert_int_equal(cfg->cards[255].mode, 'A');
	assert_idset(&cfg->usage_domains, &doms);
	assert_idset(&cfg->control_domains, &doms);
}

/* The embedded default is seed.conf byte for byte, and parses as the seed LPAR. */
static void test_embedded_seed(void **state)
{
	_cleanup_free_ char *path = source_path("contrib/hosts/seed.conf");
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ struct sim_config *cfg = parse_ok(sim_seed_host);
	char text[8192];
	size_t len;

	assert_non_null(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	assert_string_equal(sim_seed_host, text);
	assert_seed_lpar(cfg);
}

static void test_load_errors(void **state)
{
	_cleanup_free_ struct sim_config *cfg = calloc(1, sizeof(*cfg));
	char err[256] = "";
	char path[] = "/tmp/zapfs-hostfile-XXXXXX";
	int fd = mkstemp(path);

	assert_non_null(cfg);
	assert_int_equal(sim_config_load("/nonexistent/x.conf", cfg, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/x.conf: No such file or directory");

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "kernel 6.10\ncard 5 CEX5X\n", 25), 25);
	close(fd);
	assert_int_equal(sim_config_load(path, cfg, err, sizeof(err)), -EINVAL);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_string_equal(err + strlen(path), ":2: unknown card mode 'X' (use A, C or P)");

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "kernel 6.10\n\0", 13), 13);
	close(fd);
	assert_int_equal(sim_config_load(path, cfg, err, sizeof(err)), -EINVAL);
	assert_true(strstr(err, "NUL byte") != NULL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),      cmocka_unit_test(test_comments_and_blanks),
		cmocka_unit_test(test_kernel),	      cmocka_unit_test(test_max_ids),
		cmocka_unit_test(test_cards),	      cmocka_unit_test(test_card_errors),
		cmocka_unit_test(test_domains),	      cmocka_unit_test(test_masks),
		cmocka_unit_test(test_vfio_ap),	      cmocka_unit_test(test_mdevs),
		cmocka_unit_test(test_mdev_errors),   cmocka_unit_test(test_unknown_keyword),
		cmocka_unit_test(test_limits),	      cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_shipped_seed),  cmocka_unit_test(test_shipped_large),
		cmocka_unit_test(test_embedded_seed), cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
