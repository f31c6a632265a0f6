/* SPDX-License-Identifier: MIT */
/*
 * Loading vfio_ap on a real host (see modload.h). Built with or without
 * libkmod (HAVE_LIBKMOD); without it, the caller is told what to run.
 */
#include "kmod/modload.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>

#ifdef HAVE_LIBKMOD
#include <libkmod.h>
#endif

#include "core/cleanup.h"
#include "kmod/sysfs.h"

#define VFIO_AP_DEVICE "devices/vfio_ap"

#define MSG_NOT_SYS "vfio_ap is not loaded in %s (no %s); zapfs loads kernel modules only for /sys"
#define MSG_NO_LIBKMOD                                                                             \
	"vfio_ap is not loaded and zapfs was built without libkmod: run modprobe vfio_ap"

static __attribute__((format(printf, 3, 4))) void set_msg(char *msg, size_t size, const char *fmt,
							  ...)
{
	va_list ap;

	if (!msg || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
}

/* The path zapfs was given is /sys, and a sysfs is mounted there: a
 * zapfs-simsys mount bind-mounted over /sys (as the mdevctl tests do) is
 * not the kernel. */
static bool is_real_sys(const char *root)
{
	struct statfs st;

	return strcmp(root, "/sys") == 0 && statfs("/sys", &st) == 0 && st.f_type == SYSFS_MAGIC;
}

#ifdef HAVE_LIBKMOD

bool modload_have_libkmod(void)
{
	return true;
}

static void kmod_ctx_unrefp(struct kmod_ctx **ctx)
{
	if (*ctx)
		kmod_unref(*ctx);
}

static void kmod_module_unrefp(struct kmod_module **mod)
{
	if (*mod)
		kmod_module_unref(*mod);
}

/* libkmod logs to stderr by default; the caller prints our message. */
static void kmod_log_nothing(void *data, int priority, const char *file, int line, const char *fn,
			     const char *format, va_list args)
{
}

int modload_probe(const char *name, const char *module_dir, char *msg, size_t msg_size)
{
	static const char *const no_config[] = { NULL };
	_cleanup_(kmod_ctx_unrefp) struct kmod_ctx *ctx = NULL;
	_cleanup_(kmod_module_unrefp) struct kmod_module *mod = NULL;
	int r;

	if (!name || !*name)
		return -EINVAL;

	ctx = kmod_new(module_dir, module_dir ? no_config : NULL);
	if (!ctx) {
		set_msg(msg, msg_size, "could not load %s: libkmod failed to start", name);
		return -ENOMEM;
	}
	kmod_set_log_fn(ctx, kmod_log_nothing, NULL);

	r = kmod_module_new_from_name(ctx, name, &mod);
	if (r < 0) {
		set_msg(msg, msg_size, "could not load %s: %s", name, strerror(-r));
		return r;
	}
	/* As `modprobe NAME`: blacklists apply to aliases, not to a module
	 * asked for by name; install commands are honoured. */
	r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	if (r == -ENOENT) {
		set_msg(msg, msg_size, "could not load %s: no such module for this kernel", name);
		return r;
	}
	if (r < 0) {
		set_msg(msg, msg_size, "could not load %s: %s", name, strerror(-r));
		return r;
	}
	if (r > 0) {
		set_msg(msg, msg_size, "could not load %s: the modprobe configuration forbids it",
			name);
		return -EPERM;
	}
	set_msg(msg, msg_size, "%s", "");
	return 0;
}

#else

bool modload_have_libkmod(void)
{
	return false;
}

int modload_probe(const char *name, const char *module_dir, char *msg, size_t msg_size)
{
	if (!name || !*name)
		return -EINVAL;
	set_msg(msg, msg_size, "zapfs was built without libkmod: run modprobe %s", name);
	return -EOPNOTSUPP;
}

#endif

int modload_vfio_ap(struct sysfs *fs, const char *module_dir, char *msg, size_t msg_size)
{
	char why[MODLOAD_MSG_MAX];
	const char *root;
	int r;

	if (!fs)
		return -EINVAL;
	root = sysfs_root(fs);
	set_msg(msg, msg_size, "%s", "");

	r = sysfs_exists(fs, VFIO_AP_DEVICE);
	if (r < 0) {
		set_msg(msg, msg_size, "cannot tell whether vfio_ap is loaded: %s/%s: %s", root,
			VFIO_AP_DEVICE, strerror(-r));
		return r;
	}
	if (r > 0)
		return 0;

	if (!is_real_sys(root)) {
		set_msg(msg, msg_size, MSG_NOT_SYS, root, VFIO_AP_DEVICE);
		return -ENOENT;
	}
	if (!modload_have_libkmod()) {
		set_msg(msg, msg_size, MSG_NO_LIBKMOD);
		return -EOPNOTSUPP;
	}

	r = modload_probe("vfio_ap", module_dir, why, sizeof(why));
	if (r < 0) {
		set_msg(msg, msg_size, "vfio_ap is not loaded and loading it failed: %s", why);
		return r;
	}
	/* Module init registers the root device before it returns. */
	r = sysfs_exists(fs, VFIO_AP_DEVICE);
	if (r <= 0) {
		set_msg(msg, msg_size, "vfio_ap was loaded but %s/%s did not appear", root,
			VFIO_AP_DEVICE);
		return r < 0 ? r : -ENODEV;
	}
	return 1;
}
