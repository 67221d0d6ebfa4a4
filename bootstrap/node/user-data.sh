#!/bin/bash
# K3s node bootstrap (bootstrap/node/user-data.sh); idempotent, re-run: sudo bash /var/lib/cloud/instance/user-data.txt

# EC2 user data, run once by cloud-init (the header above is all of this comment the node keeps: EC2
# allows 16 KB). Roles: init (the first server: starts the cluster, hands it to Argo CD, uploads the
# kubeconfig), join (another server) and agent (from the Auto Scaling group), both through the
# registration address.
set -euo pipefail
umask 077

LOG_FILE=/var/log/dubai-bootstrap.log
touch "$LOG_FILE"
chmod 0600 "$LOG_FILE"
exec > >(tee -a "$LOG_FILE") 2>&1

# @@ENVIRONMENT@@
# The AWS CLI reads the region from the environment.
export AWS_REGION

K3S_CONFIG_DIR=/etc/rancher/k3s
K3S_CONFIG=$K3S_CONFIG_DIR/config.yaml
K3S_SERVER_DIR=/var/lib/rancher/k3s/server
LONGHORN_DIR=/var/lib/longhorn
CONFIG_CHANGED=false

log() { printf '%s [dubai-bootstrap] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# imds PATH: instance metadata over IMDSv2 (a session token first; IMDSv1 is off).
imds() {
  local token
  token="$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)"
  curl -sf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

# An agent appends its instance id to its name.
node_name() {
  if [[ $NODE_ROLE == agent ]]; then printf '%s-%s\n' "$NODE_NAME" "$(imds instance-id)"; else printf '%s\n' "$NODE_NAME"; fi
}

cluster_initialized() {
  aws s3api head-object --bucket "$KUBECONFIG_BUCKET" --key "$CLUSTER_MARKER_KEY" >/dev/null 2>&1
}

# node_role: init, join or agent, decided once (kept in $K3S_CONFIG_DIR/role). A replaced first
# server joins the others instead of starting a second cluster.
node_role() {
  if [[ $NODE_ROLE == agent ]]; then
    echo agent
  elif [[ -s $K3S_CONFIG_DIR/role ]]; then
    cat "$K3S_CONFIG_DIR/role"
  elif ((SERVER_COUNT == 1)) || { ((SERVER_INDEX == 1)) && { [[ -n ${ETCD_RESTORE_SNAPSHOT:-} ]] || ! cluster_initialized; }; }; then
    echo init
  else
    echo join
  fi
}

# retry ATTEMPTS COMMAND...: runs COMMAND until it succeeds, with a growing pause.
retry() {
  local attempts=$1 n=1
  shift
  until "$@"; do
    if ((n >= attempts)); then
      log "giving up after $n attempts: $*"
      return 1
    fi
    sleep $((n * 5))
    n=$((n + 1))
  done
}

# Tailscale comes from its signed apt repository (docs/node-software.md), never from a script piped
# into a shell: apt trusts the repository only through a key file that holds exactly the pinned key,
# and installs exactly node.tailscale.version.
TAILSCALE_KEYRING=/usr/share/keyrings/tailscale-archive-keyring.gpg

# tailscale_key FILE: succeeds only if FILE holds exactly one primary key and its fingerprint is
# TAILSCALE_KEY_FINGERPRINT (written in groups of four, as gpg prints it). A throw-away gpg home:
# nothing is imported anywhere.
tailscale_key() {
  local h f
  h="$(mktemp -d)"
  f="$(gpg --homedir "$h" --show-keys --with-colons "$1" 2>/dev/null | awk -F: '$1=="pub"{p=1;next} p&&$1=="fpr"{print $10;p=0}' | xargs)" || true
  rm -rf "$h"
  [[ $f == "${TAILSCALE_KEY_FINGERPRINT// /}" ]] && return
  log "refusing Tailscale's key: expected one key, ${TAILSCALE_KEY_FINGERPRINT// /}; found: ${f:-none}"
  return 1
}

# tailscale_source: the repository of this release (ID and VERSION_CODENAME of /etc/os-release),
# trusted with the checked key. World-readable files: apt verifies signatures as its _apt user.
tailscale_source() (
  umask 022
  local os k=$TAILSCALE_KEYRING
  os="$(bash -c '. /etc/os-release && echo "$ID $VERSION_CODENAME"')"
  retry 5 curl -fsSL -o "$k.new" "$TAILSCALE_REPO/${os/ //}.noarmor.gpg"
  tailscale_key "$k.new"
  mv "$k.new" "$k"
  printf 'deb [signed-by=%s] %s/%s main\n' "$k" "$TAILSCALE_REPO" "$os" >/etc/apt/sources.list.d/tailscale.list
)

# Ubuntu only: Tailscale's repository is wired for apt (its key and the pinned version above).
install_packages() {
  log "installing open-iscsi, NFS client and cryptsetup for Longhorn"
  if ! command -v apt-get &>/dev/null; then
    log "apt-get not found: use an Ubuntu AMI"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  retry 5 apt-get update -q
  retry 5 apt-get install -y -q open-iscsi nfs-common cryptsetup jq curl git gnupg
  if ! command -v aws &>/dev/null; then retry 3 snap install aws-cli --classic; fi
  tailscale_source
  retry 5 apt-get update -q
  retry 5 apt-get install -y -q --allow-downgrades "tailscale=$TAILSCALE_VERSION"
  printf '%s\n' iscsi_tcp dm_crypt >/etc/modules-load.d/longhorn.conf
  modprobe iscsi_tcp
  modprobe dm_crypt
  systemctl enable --now iscsid
}

kernel_settings() {
  # Required by protect-kernel-defaults (CIS): the kubelet refuses to change them itself.
  cat >/etc/sysctl.d/90-kubelet-cis.conf <<'SYSCTL'
vm.panic_on_oom=0
vm.overcommit_memory=1
kernel.panic=10
kernel.panic_on_oops=1
SYSCTL
  sysctl -q -p /etc/sysctl.d/90-kubelet-cis.conf
}

# The data volume is the EBS disk (serial vol...) that does not hold the root filesystem.
find_data_disk() {
  local root_disk
  root_disk="/dev/$(lsblk -no PKNAME "$(findmnt -no SOURCE /)" | head -n1)"
  lsblk -dnpo NAME,SERIAL | awk -v root="$root_disk" '$1 != root && $2 ~ /^vol/ { print $1; exit }'
}

mount_data_volume() {
  local disk="" uuid
  if mountpoint -q "$LONGHORN_DIR"; then
    log "$LONGHORN_DIR already mounted"
    return 0
  fi
  for _ in $(seq 1 60); do
    disk="$(find_data_disk)"
    [[ -n $disk ]] && break
    log "waiting for the data volume to be attached"
    sleep 10
  done
  if [[ -z $disk ]]; then
    log "no data volume attached after 10 minutes"
    return 1
  fi
  if ! blkid "$disk" >/dev/null 2>&1; then
    log "formatting $disk (new volume)"
    mkfs.ext4 -q -L longhorn "$disk"
  fi
  uuid="$(blkid -s UUID -o value "$disk")"
  mkdir -p "$LONGHORN_DIR"
  grep -q "UUID=$uuid" /etc/fstab || printf 'UUID=%s %s ext4 defaults,nofail 0 2\n' "$uuid" "$LONGHORN_DIR" >>/etc/fstab
  mount "$LONGHORN_DIR"
  log "mounted $disk on $LONGHORN_DIR"
}

# secret_value NAME: a Secrets Manager value (instance role).
secret_value() {
  aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text
}

write_k3s_config() {
  local role=$1 name zone before
  log "writing the K3s configuration ($role)"
  mkdir -p "$K3S_CONFIG_DIR" "$K3S_SERVER_DIR/manifests" "$K3S_SERVER_DIR/logs"
  if [[ ! -s $K3S_CONFIG_DIR/token ]]; then
    retry 10 secret_value "$K3S_TOKEN_SECRET" >"$K3S_CONFIG_DIR/token.new"
    mv "$K3S_CONFIG_DIR/token.new" "$K3S_CONFIG_DIR/token"
  fi
  chmod 0600 "$K3S_CONFIG_DIR/token"
  name="$(node_name)"
  zone="$(imds placement/availability-zone)"
  before="$(cat "$K3S_CONFIG" 2>/dev/null || true)"
  # Every node: name, token, zone label (read by spread constraints and Longhorn), CIS kubelet flags.
  cat >"$K3S_CONFIG" <<CONFIG
node-name: ${name}
token-file: ${K3S_CONFIG_DIR}/token
protect-kernel-defaults: true
node-label:
  - topology.kubernetes.io/zone=${zone}
  - topology.kubernetes.io/region=${AWS_REGION}
kubelet-arg:
  - streaming-connection-idle-timeout=5m
  - make-iptables-util-chains=true
CONFIG
  if [[ $role != init ]]; then printf 'server: https://%s:6443\n' "$REGISTRATION_ADDRESS" >>"$K3S_CONFIG"; fi
  if [[ $role != agent ]]; then
    signing_key "$role"
    write_server_config "$role" "$name"
  fi
  chmod 0600 "$K3S_CONFIG"
  # A re-run that changes the configuration restarts K3s.
  if [[ -n $before && $before != "$(cat "$K3S_CONFIG")" ]]; then CONFIG_CHANGED=true; fi
}

# Workload identity (docs/workload-identity.md): every server signs service-account tokens with one
# key kept in Secrets Manager; the first server generates it at first boot, the others wait for it.
SA_KEY=$K3S_CONFIG_DIR/sa.key

read_sa_key() { secret_value "$SA_KEY_SECRET" >"$SA_KEY.new" && grep -q 'PRIVATE KEY' "$SA_KEY.new"; }

signing_key() {
  if [[ ! -s $SA_KEY ]]; then
    if [[ $1 != init ]]; then
      retry 30 read_sa_key
    elif ! read_sa_key 2>/dev/null; then
      openssl genrsa -out "$SA_KEY.new" 2048
      retry 5 aws secretsmanager put-secret-value --secret-id "$SA_KEY_SECRET" --secret-string "file://$SA_KEY.new" >/dev/null
    fi
    mv "$SA_KEY.new" "$SA_KEY"
  fi
  openssl pkey -in "$SA_KEY" -pubout -out "$SA_KEY.pub"
}

# The issuer's discovery document and JWKS, as kube-apiserver serves them (so the key id is exactly
# the one it puts in each token), copied to the two public objects of the OIDC bucket for AWS STS.
publish_oidc() {
  local p f
  f="$(mktemp)"
  for p in .well-known/openid-configuration openid/v1/jwks; do
    k3s kubectl get --raw "/$p" >"$f"
    retry 5 aws s3 cp "$f" "s3://$OIDC_BUCKET/$p"
  done
  rm -f "$f"
}

write_server_config() {
  local role=$1 name=$2 disable="" san=""
  cat >"$K3S_SERVER_DIR/psa.yaml" <<'PSA'
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: PodSecurity
    configuration:
      apiVersion: pod-security.admission.config.k8s.io/v1
      kind: PodSecurityConfiguration
      defaults:
        enforce: baseline
        enforce-version: latest
        audit: restricted
        audit-version: latest
        warn: restricted
        warn-version: latest
      exemptions:
        usernames: []
        runtimeClasses: []
        namespaces: [kube-system]
PSA
  cat >"$K3S_SERVER_DIR/audit.yaml" <<'AUDIT'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
AUDIT

  if [[ $DISABLE_TRAEFIK == true ]]; then disable=$'disable:\n  - traefik'; fi
  if [[ -n $REGISTRATION_ADDRESS ]]; then san="  - ${REGISTRATION_ADDRESS}"; fi
  if [[ $role == init ]]; then printf 'cluster-init: true\n' >>"$K3S_CONFIG"; fi
  cat >>"$K3S_CONFIG" <<CONFIG
write-kubeconfig-mode: "0600"
tls-san:
  - ${name}.${TAILNET_DOMAIN}
  - ${name}
${san}
secrets-encryption: true
${disable}
etcd-snapshot-schedule-cron: "0 */6 * * *"
etcd-snapshot-retention: 28
etcd-s3: true
etcd-s3-region: ${AWS_REGION}
etcd-s3-endpoint: s3.${AWS_REGION}.amazonaws.com
etcd-s3-bucket: ${ETCD_BUCKET}
etcd-s3-folder: ${ETCD_FOLDER}
etcd-expose-metrics: true
kube-apiserver-arg:
  - admission-control-config-file=${K3S_SERVER_DIR}/psa.yaml
  - audit-policy-file=${K3S_SERVER_DIR}/audit.yaml
  - audit-log-path=${K3S_SERVER_DIR}/logs/audit.log
  - audit-log-maxage=30
  - audit-log-maxbackup=10
  - audit-log-maxsize=100
  - enable-admission-plugins=NodeRestriction
  - service-account-issuer=${OIDC_ISSUER}
  - service-account-issuer=https://kubernetes.default.svc.cluster.local
  - service-account-jwks-uri=${OIDC_ISSUER}/openid/v1/jwks
  - service-account-signing-key-file=${SA_KEY}
  - service-account-key-file=${SA_KEY}.pub
  - service-account-key-file=${K3S_SERVER_DIR}/tls/service.key
kube-controller-manager-arg:
  - terminated-pod-gc-threshold=10
CONFIG
}

# with_repository_credentials COMMAND...: runs COMMAND with git reading the private repository's
# credentials from a file (never a command line), when git.credentialsSecret is set.
with_repository_credentials() {
  if [[ -z $REPO_CREDENTIALS_SECRET ]]; then
    "$@"
    return
  fi
  local dir status=0 host
  dir="$(mktemp -d)"
  chmod 0700 "$dir"
  retry 10 secret_value "$REPO_CREDENTIALS_SECRET" >"$dir/json"
  host="${REPO_URL#*://}"
  host="${host%%/*}"
  printf 'https://%s:%s@%s\n' "$(jq -r '.username | @uri' <"$dir/json")" "$(jq -r '.password | @uri' <"$dir/json")" "$host" >"$dir/store"
  GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=credential.helper GIT_CONFIG_VALUE_0="store --file=$dir/store" "$@" || status=$?
  rm -rf "$dir"
  return "$status"
}

# Argo CD, the platform AppProject and the root Application are not part of this script: they are
# read from the repository at git.targetRevision: the very files Argo CD's own Application syncs
# (rendered/<env>/argocd/, listed in order by ARGOCD_INSTALL_PATH), so a chart bump changes
# rendered/, never the instance's user data, and the hand-over to Argo CD changes nothing.
ARGOCD_FILES_DIR=/var/lib/dubai-hub/argocd-bootstrap

fetch_argocd_bootstrap() {
  log "fetching Argo CD's files at $GIT_REVISION from $REPO_URL"
  local dir file
  dir="$(mktemp -d)"
  git -C "$dir" init -q
  with_repository_credentials retry 10 git -C "$dir" fetch -q --depth 1 "$REPO_URL" "$GIT_REVISION"
  rm -rf "$ARGOCD_FILES_DIR"
  install -d -m 0700 "$ARGOCD_FILES_DIR/files"
  git -C "$dir" show "FETCH_HEAD:$ARGOCD_INSTALL_PATH" | grep -v '^#' | grep . >"$ARGOCD_FILES_DIR/install.txt"
  while read -r file; do
    git -C "$dir" show "FETCH_HEAD:rendered/$ENV_NAME/$file" >"$ARGOCD_FILES_DIR/files/${file//\//_}"
  done <"$ARGOCD_FILES_DIR/install.txt"
  git -C "$dir" show "FETCH_HEAD:$ARGOCD_BOOTSTRAP_PATH" >"$ARGOCD_FILES_DIR/argocd-bootstrap.yaml"
  rm -rf "$dir"
}

# apply FILE: server-side, as Argo CD's own field manager, so its first sync finds nothing to change.
apply_server_side() {
  retry 10 k3s kubectl apply --server-side --force-conflicts --field-manager="$ARGOCD_FIELD_MANAGER" -f "$1" >/dev/null
}

install_argocd() {
  log "installing Argo CD from rendered/$ENV_NAME/argocd ($(wc -l <"$ARGOCD_FILES_DIR/install.txt") files)"
  local file
  while read -r file; do
    apply_server_side "$ARGOCD_FILES_DIR/files/${file//\//_}"
    if [[ $file == */customresourcedefinition_* ]]; then
      retry 10 k3s kubectl wait --for condition=established --timeout=60s -f "$ARGOCD_FILES_DIR/files/${file//\//_}" >/dev/null
    fi
  done <"$ARGOCD_FILES_DIR/install.txt"
  log "handing over to Argo CD: the platform AppProject and the root Application"
  apply_server_side "$ARGOCD_FILES_DIR/argocd-bootstrap.yaml"
}

# The systemd unit: k3s for a server, k3s-agent for an agent.
k3s_service() { if [[ $1 == agent ]]; then echo k3s-agent; else echo k3s; fi; }

install_k3s() {
  local role=${1:-init} exec=server
  if [[ $role == agent ]]; then exec=agent; fi
  if command -v k3s >/dev/null 2>&1 && k3s --version | grep -qF "$K3S_VERSION" && systemctl is-active --quiet "$(k3s_service "$role")"; then
    log "K3s $K3S_VERSION already running"
    if [[ $CONFIG_CHANGED == true ]]; then
      log "restarting K3s for its new configuration"
      systemctl restart "$(k3s_service "$role")"
    fi
    return 0
  fi
  log "installing K3s $K3S_VERSION ($exec)"
  local installer
  installer="$(mktemp)"
  # The install script at a pinned commit, checked against its sha256; it checks the K3s binary.
  retry 5 curl -sfL -o "$installer" "$K3S_INSTALLER_URL"
  if ! printf '%s  %s\n' "$K3S_INSTALLER_SHA256" "$installer" | sha256sum --check --status; then
    log "the K3s install script does not match its pinned sha256 $K3S_INSTALLER_SHA256; not running it"
    rm -f "$installer"
    return 1
  fi
  INSTALL_K3S_VERSION="$K3S_VERSION" INSTALL_K3S_EXEC="$exec" sh "$installer"
  rm -f "$installer"
}

# recover-cluster: a new first server restores etcd from the snapshot it was rendered with, once.
restore_etcd() {
  [[ -n ${ETCD_RESTORE_SNAPSHOT:-} && ! -s $K3S_CONFIG_DIR/restored ]] || return 0
  log "restoring etcd from s3://$ETCD_BUCKET/$ETCD_FOLDER/$ETCD_RESTORE_SNAPSHOT"
  systemctl stop k3s
  k3s server --cluster-reset --cluster-reset-restore-path="$ETCD_RESTORE_SNAPSHOT"
  printf '%s\n' "$ETCD_RESTORE_SNAPSHOT" >"$K3S_CONFIG_DIR/restored"
  systemctl start k3s
}

wait_for_k3s() {
  if [[ $1 == agent ]]; then
    log "waiting for the K3s agent"
    retry 30 systemctl is-active --quiet k3s-agent
    return
  fi
  log "waiting for the Kubernetes API"
  retry 30 k3s kubectl get --raw /readyz >/dev/null
}

mark_cluster_initialized() {
  ((SERVER_COUNT > 1)) || return 0
  log "recording that the cluster exists (s3://$KUBECONFIG_BUCKET/$CLUSTER_MARKER_KEY)"
  date -u +%Y-%m-%dT%H:%M:%SZ | retry 5 aws s3 cp --only-show-errors - "s3://$KUBECONFIG_BUCKET/$CLUSTER_MARKER_KEY"
}

seed_repository_credentials() {
  [[ -n $REPO_CREDENTIALS_SECRET ]] || return 0
  if k3s kubectl -n "$ARGOCD_NAMESPACE" get secret "$REPO_SECRET_NAME" >/dev/null 2>&1; then
    log "Argo CD repository credentials already present"
    return 0
  fi
  log "seeding Argo CD's repository credentials from $REPO_CREDENTIALS_SECRET"
  local dir
  dir="$(mktemp -d)"
  chmod 0700 "$dir"
  # Values go through files, never command lines (visible in the process list).
  retry 10 secret_value "$REPO_CREDENTIALS_SECRET" >"$dir/json"
  jq -j .username <"$dir/json" >"$dir/username"
  jq -j .password <"$dir/json" >"$dir/password"
  printf '%s' "$REPO_URL" >"$dir/url"
  printf 'git' >"$dir/type"
  k3s kubectl create namespace "$ARGOCD_NAMESPACE" --dry-run=client -o yaml | k3s kubectl apply -f -
  k3s kubectl -n "$ARGOCD_NAMESPACE" create secret generic "$REPO_SECRET_NAME" --dry-run=client -o yaml \
    --from-file=type="$dir/type" --from-file=url="$dir/url" --from-file=username="$dir/username" --from-file=password="$dir/password" |
    k3s kubectl label --local -f - argocd.argoproj.io/secret-type=repository -o yaml |
    k3s kubectl apply -f -
  rm -rf "$dir"
}

upload_kubeconfig() {
  log "uploading the kubeconfig to s3://$KUBECONFIG_BUCKET/$KUBECONFIG_KEY"
  retry 5 aws s3 cp --only-show-errors "$K3S_CONFIG_DIR/k3s.yaml" "s3://$KUBECONFIG_BUCKET/$KUBECONFIG_KEY"
}

join_tailnet() {
  local name
  name="$(node_name)"
  systemctl enable --now tailscaled
  if tailscale status --json 2>/dev/null | jq -e '.BackendState == "Running"' >/dev/null; then
    log "already on the tailnet"
    return 0
  fi
  # The auth key is set by hand after the stack exists (npm run secrets -- set): wait up to an hour.
  local key_file="/run/tailscale-auth-key" key=""
  for _ in $(seq 1 120); do
    key="$(secret_value "$TAILSCALE_AUTH_KEY_SECRET" 2>/dev/null || true)"
    [[ -n $key && $key != None ]] && break
    log "waiting for $TAILSCALE_AUTH_KEY_SECRET (npm run secrets -- set --env $ENV_NAME ...)"
    sleep 30
  done
  if [[ -z $key || $key == None ]]; then
    log "no Tailscale auth key after an hour; set it, then run this script again"
    return 1
  fi
  printf '%s' "$key" >"$key_file"
  tailscale up --auth-key="file:$key_file" --hostname="$name"
  rm -f "$key_file"
  log "joined the tailnet as $name.$TAILNET_DOMAIN"
}

main() {
  local role
  install_packages
  role="$(node_role)"
  mkdir -p "$K3S_CONFIG_DIR"
  printf '%s\n' "$role" >"$K3S_CONFIG_DIR/role"
  log "bootstrapping $(node_name) ($ENV_NAME) as $role"
  kernel_settings
  mount_data_volume
  write_k3s_config "$role"
  if [[ $role == init ]]; then fetch_argocd_bootstrap; fi
  install_k3s "$role"
  if [[ $role == init ]]; then restore_etcd; fi
  wait_for_k3s "$role"
  if [[ $role == init ]]; then
    seed_repository_credentials
    install_argocd
    upload_kubeconfig
    publish_oidc
    mark_cluster_initialized
  fi
  join_tailnet
  log "done ($role): Argo CD manages the cluster from rendered/$ENV_NAME/apps"
}

main "$@"
