/*
 * field: every name on the wire, in one place: the request parameters the
 * handlers read (API and pages alike) and the members of the v1 JSON
 * answers (see the shared spec api-v1.md for their order and meaning).
 */
#ifndef OTS_FIELD_H
#define OTS_FIELD_H

/* Request parameters. */
#define P_SECRET		"secret"
#define P_FILE			"file"		/* a multipart file part (extension) */
#define P_PASSPHRASE		"passphrase"
#define P_TTL			"ttl"
#define P_RECIPIENT		"recipient"
#define P_NOTIFY		"notify"	/* an extension of v1 */
#define P_LENGTH		"length"	/* /generate */
#define P_ACTION		"action"	/* the create page's button */
#define P_NOTE			"note"		/* a request link's note */

/* Members of the v1 answers. */
#define J_CUSTID		"custid"
#define J_METADATA_KEY		"metadata_key"
#define J_SECRET_KEY		"secret_key"
#define J_TTL			"ttl"
#define J_METADATA_TTL		"metadata_ttl"
#define J_SECRET_TTL		"secret_ttl"
#define J_STATE			"state"
#define J_UPDATED		"updated"
#define J_CREATED		"created"
#define J_RECEIVED		"received"
#define J_RECIPIENT		"recipient"
#define J_SHARE_DOMAIN		"share_domain"
#define J_VALUE			"value"
#define J_FILE_NAME		"file_name"	/* file secrets (extension) */
#define J_FILE_SIZE		"file_size"
#define J_FILE_BASE64		"file_base64"
#define J_PASSPHRASE_REQUIRED	"passphrase_required"
#define J_MESSAGE		"message"
#define J_STATUS		"status"
#define J_LOCALE		"locale"
#define J_SECRET_SHORTKEY	"secret_shortkey"
/* POST /api/v1/request (an extension) */
#define J_REQUEST_KEY		"request_key"
#define J_REQUEST_URL		"request_url"
#define J_RECEIPT_URL		"receipt_url"
#define J_EXPIRES		"expires"

#endif
