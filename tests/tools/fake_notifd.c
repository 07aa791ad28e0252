/* fake_notifd: a stand-in freedesktop notification server for tests
 * (tests/tools/README.md). Owns org.freedesktop.Notifications on the bus
 * at ADDRESS and appends one JSON object per Notify call to FILE:
 *   {"app":..,"summary":..,"body":..,"icon":..,"urgency":N,"expire":N,
 *    "category":..,"replaces":N,"actions":N}
 * then answers with a fresh id. Prints "ready" once it owns the name.
 * Runs until killed or the bus goes away. Test-only, never installed. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <systemd/sd-bus.h>

static FILE *rec;
static uint32_t next_id = 1;

static int read_hints(sd_bus_message *m, json_t *o)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;
		if ((r = sd_bus_message_read(m, "s", &key)) < 0)
			return r;
		const char *contents;
		char type;
		if ((r = sd_bus_message_peek_type(m, &type, &contents)) < 0)
			return r;
		if (strcmp(key, "urgency") == 0 && strcmp(contents, "y") == 0) {
			uint8_t u;
			if ((r = sd_bus_message_read(m, "v", "y", &u)) < 0)
				return r;
			json_object_set_new(o, "urgency", json_integer(u));
		} else if (strcmp(key, "category") == 0 && strcmp(contents, "s") == 0) {
			const char *c;
			if ((r = sd_bus_message_read(m, "v", "s", &c)) < 0)
				return r;
			json_object_set_new(o, "category", json_string(c));
		} else if ((r = sd_bus_message_skip(m, "v")) < 0) {
			return r;
		}
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int method_notify(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)ud;
	(void)err;
	const char *app, *icon, *summary, *body;
	uint32_t replaces;
	int32_t expire;
	int r = sd_bus_message_read(m, "susss", &app, &replaces, &icon, &summary, &body);
	if (r < 0)
		return r;
	json_t *o = json_object();
	json_object_set_new(o, "app", json_string(app));
	json_object_set_new(o, "replaces", json_integer(replaces));
	json_object_set_new(o, "icon", json_string(icon));
	json_object_set_new(o, "summary", json_string(summary));
	json_object_set_new(o, "body", json_string(body));
	size_t nact = 0;
	if ((r = sd_bus_message_enter_container(m, 'a', "s")) < 0)
		goto out;
	const char *a;
	while ((r = sd_bus_message_read(m, "s", &a)) > 0)
		nact++;
	if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
		goto out;
	json_object_set_new(o, "actions", json_integer((json_int_t)nact));
	if ((r = read_hints(m, o)) < 0)
		goto out;
	if ((r = sd_bus_message_read(m, "i", &expire)) < 0)
		goto out;
	json_object_set_new(o, "expire", json_integer(expire));
	char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line) {
		fprintf(rec, "%s\n", line);
		fflush(rec);
		free(line);
	}
	r = sd_bus_reply_method_return(m, "u", next_id++);
out:
	json_decref(o);
	return r;
}

static int method_caps(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)ud;
	(void)err;
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "as", 2, "body", "body-markup");
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_info(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)ud;
	(void)err;
	return sd_bus_reply_method_return(m, "ssss", "fake_notifd", "tocsin-tests", "0", "1.2");
}

static const sd_bus_vtable vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Notify", "susssasa{sv}i", "u", method_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetCapabilities", "", "as", method_caps, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetServerInformation", "", "ssss", method_info,
	              SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fake_notifd BUS_ADDRESS RECORD_FILE\n");
		return 2;
	}
	rec = fopen(argv[2], "a");
	if (!rec) {
		fprintf(stderr, "fake_notifd: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	sd_bus *bus = NULL;
	int r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, argv[1]);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/Notifications",
		                             "org.freedesktop.Notifications", vtable, NULL);
	if (r >= 0)
		r = sd_bus_request_name(bus, "org.freedesktop.Notifications", 0);
	if (r < 0) {
		fprintf(stderr, "fake_notifd: %s\n", strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		if ((r = sd_bus_wait(bus, UINT64_MAX)) < 0 && r != -EINTR)
			break;
	}
	fprintf(stderr, "fake_notifd: bus gone: %s\n", strerror(-r));
	sd_bus_unref(bus);
	fclose(rec);
	return 0;
}
