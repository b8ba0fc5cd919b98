#!/bin/sh
# Creates bulkguard's virtual host on RabbitMQ and one user per role with only the permissions
# that role needs (docs/operating.md, "The broker's users"), through rabbitmqctl on a node of the
# cluster. Run once when the broker is set up, and again to change a password; it changes nothing
# else. Passwords are read from the environment and given to rabbitmqctl on its standard input,
# never on a command line.
#
# Names Celery and kombu give what they declare on RabbitMQ, which the regular expressions below
# match:
#   bulkguard                       the task exchange (topic); the queues are named as they route
#   celery_delayed_*                native delayed delivery (retry countdowns)
#   celery.pidbox                   remote control (fanout): publishing to it is sending control
#   <node>.celery.pidbox            each worker's control queue, bound to celery.pidbox
#   reply.celery.pidbox             replies to remote control (direct)
#   <id>.reply.celery.pidbox        a control client's queue for its replies
#   celeryev, celeryev.<id>         task and worker events (topic) and a monitor's queue of them
set -eu

: "${RABBITMQ_WORKER_PASSWORD:?the workers password (user worker)}"
: "${RABBITMQ_PRODUCER_PASSWORD:?the upstream producers password (user producer)}"
: "${RABBITMQ_FLOWER_PASSWORD:?Flower's password (user flower)}"
: "${RABBITMQ_CONTROL_PASSWORD:?the operators password for remote control (user control)}"
vhost=${RABBITMQ_VHOST:-bulkguard}
# A prefix for the user names, for a broker that serves more than one deployment (users are the
# node's, not the virtual host's).
prefix=${RABBITMQ_USER_PREFIX:-}
ctl=${RABBITMQCTL:-rabbitmqctl}

queues='scoring|enforcement|evidence|legal|maintenance'
public='scoring|evidence|enforcement'
control_side='celery\.pidbox|reply\.celery\.pidbox|.+\.reply\.celery\.pidbox'
events='celeryev|celeryev\..+'
# What a worker declares, binds and consumes: its queues and exchanges, delayed delivery, its own
# control queue and the replies it sends, events.
worker_all="^(bulkguard|$queues|celery_delayed_.*|celery\.pidbox|reply\.celery\.pidbox|.+\.celery\.pidbox|$events)\$"
# The same without celery.pidbox: a worker listens to remote control and may not send it.
worker_write="^(bulkguard|$queues|celery_delayed_.*|reply\.celery\.pidbox|.+\.celery\.pidbox|$events)\$"

existing=$("$ctl" -q list_users | cut -f 1)

user() { # name password
    if printf '%s\n' "$existing" | grep -qx -- "$1"; then
        printf '%s\n' "$2" | "$ctl" -q change_password "$1"
    else
        printf '%s\n' "$2" | "$ctl" -q add_user "$1"
    fi
}

"$ctl" -q list_vhosts | grep -qx -- "$vhost" || "$ctl" -q add_vhost "$vhost"

# Permissions: configure (declare, delete), write (publish to an exchange, bind a queue), read
# (consume, purge, bind from an exchange); ^$ matches nothing.
user "${prefix}worker" "$RABBITMQ_WORKER_PASSWORD"
"$ctl" -q set_permissions -p "$vhost" "${prefix}worker" "$worker_all" "$worker_write" "$worker_all"

# An upstream producer publishes to the task exchange and nothing else: it declares nothing,
# consumes, purges or deletes nothing, and cannot reach celery.pidbox (remote control) nor a
# queue by name through the default exchange. Topic permissions keep its routing keys to the
# public queues.
user "${prefix}producer" "$RABBITMQ_PRODUCER_PASSWORD"
"$ctl" -q set_permissions -p "$vhost" "${prefix}producer" '^$' '^bulkguard$' '^$'
"$ctl" -q set_topic_permissions -p "$vhost" "${prefix}producer" bulkguard "^($public)\$" '^$'

# Flower listens to events through a queue of its own; it publishes nothing.
user "${prefix}flower" "$RABBITMQ_FLOWER_PASSWORD"
"$ctl" -q set_permissions -p "$vhost" "${prefix}flower" "^($events)\$" '^celeryev\..+$' "^($events)\$"

# The operators send remote control and read its replies; they touch no task queue.
user "${prefix}control" "$RABBITMQ_CONTROL_PASSWORD"
"$ctl" -q set_permissions -p "$vhost" "${prefix}control" "^($control_side)\$" \
    '^(celery\.pidbox|.+\.reply\.celery\.pidbox)$' '^(reply\.celery\.pidbox|.+\.reply\.celery\.pidbox)$'

echo "RabbitMQ virtual host $vhost: users ${prefix}worker, ${prefix}producer, ${prefix}flower, ${prefix}control"
