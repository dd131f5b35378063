#!/bin/bash
# Loads the script printed by `llmoinctl completion bash` and checks what it
# offers at typical points of a command line. Usage: completion_test.sh LLMOINCTL
set -u
script=$("$1" completion bash) || { echo "llmoinctl completion bash failed"; exit 1; }
eval "$script" || exit 1
complete -p llmoinctl >/dev/null || { echo "no completion registered"; exit 1; }

failed=0
# expect "CANDIDATES" WORD... : the last word is the one being completed.
expect() {
    local want=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _llmoinctl
    if [[ "${COMPREPLY[*]}" != "$want" ]]; then
        echo "FAIL: llmoinctl ${*:2}| -> '${COMPREPLY[*]}', expected '$want'"
        failed=1
    fi
}

expect "tenant key issuer model pool limits usage report audit dev-token health completion" llmoinctl ""
expect "tenant" llmoinctl t
expect "dev-token" llmoinctl d
expect "create list show update suspend resume dev-idp apply offboard" llmoinctl tenant ""
expect "add list remove" llmoinctl issuer ""
expect "add list allow disallow allowed" llmoinctl model ""
expect "list set remove" llmoinctl pool ""
expect "allow allowed" llmoinctl model allo
expect "show suspend" llmoinctl tenant s
expect "create list revoke" llmoinctl --output json key ""
expect "create list revoke" llmoinctl --socket /tmp/x.sock key ""
expect "--name --socket --output --help --version" llmoinctl tenant create hamburg --
expect "--user --name --expires --models --socket --output --help --version" llmoinctl key create hamburg --user alice --
expect "--name --hosts --no-hosts --models --max-tokens-cap --quota-fail-mode --admin-claim --admin-value --socket --output --help --version" llmoinctl tenant update hamburg --no-hosts --
expect "--enable --disable --socket --output --help --version" llmoinctl tenant dev-idp hamburg --
expect "--issuer --audience --jwks-uri --jwks-file --user-claim --groups-claim --leeway --socket --output --help --version" llmoinctl issuer add hamburg --
expect "--user --groups --ttl --socket --output --help --version" llmoinctl dev-token hamburg --
expect "--pool" llmoinctl model allow hamburg llama --p
expect "set show clear" llmoinctl limits ""
expect "set show" llmoinctl limits s
expect "--user --group --key --default-user --default-group --default-key --rpm --tpm --concurrent --monthly-tokens --socket --output --help --version" llmoinctl limits set hamburg --
expect "--default-user --default-group --default-key" llmoinctl limits clear hamburg --d
expect "--max-tokens-cap" llmoinctl tenant update hamburg --ma
expect "closed open" llmoinctl tenant update hamburg --quota-fail-mode ""
expect "" llmoinctl limits set hamburg --rpm ""
expect "" llmoinctl limits set hamburg --user ""
# The same option name takes other values in another command.
expect "all allow-list" llmoinctl tenant update hamburg --models ""
expect "allow-list" llmoinctl tenant update hamburg --models = allo
expect "" llmoinctl key create hamburg --user alice --models ""
expect "" llmoinctl dev-token hamburg --ttl ""
expect "day month user group model function" llmoinctl usage hamburg --by ""
expect "month model" llmoinctl usage hamburg --by m
expect "day month user group model function" llmoinctl usage hamburg --by = ""
expect "--from" llmoinctl usage hamburg --by day --f
expect "--by --from --to --socket --output --help --version" llmoinctl usage hamburg --
expect "--limit --before --socket --output --help --version" llmoinctl audit --
expect "--socket --output --help --version" llmoinctl audit verify --
expect "table json csv" llmoinctl --output ""
expect "json" llmoinctl tenant list --output j
expect "bash" llmoinctl completion ""
expect "" llmoinctl completion bash ""
expect "" llmoinctl tenant show ""
expect "" llmoinctl bogus ""
expect "" llmoinctl usage hamburg --from ""
# --jwks-file completes file names.
dir=$(mktemp -d) || exit 1
touch "$dir/jwks.json" "$dir/other.txt"
expect "$dir/jwks.json" llmoinctl issuer add hamburg --jwks-file "$dir/j"
rm -r "$dir"
exit $failed
