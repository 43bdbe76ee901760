#!/bin/bash

__iotca_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__iotca_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__iotca_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__iotca_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_iotca() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    init|issue|batch|revoke|crl|list|show|ca|passphrase|pins|trust-store|aws|template|doctor|audit|serve|broker-config|station|operator|enrol-token|claim|thing|store|matter|help)
        # Offer subcommand argument completions
        "_iotca_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'init issue batch revoke crl list show ca passphrase pins trust-store aws template doctor audit serve broker-config station operator enrol-token claim thing store matter help' -- "${cur}"))
        ;;
    esac
}

_iotca_init() {
    repeating_flags=()
    non_repeating_flags=(--json --insecure-no-passphrase --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --org --key-type --root-validity --issuing-validity --crl-validity --public-url --profile --vid --pid --pkcs11 --pkcs11-module)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--org')
        return
        ;;
    '--key-type')
        __iotca_add_completions -W 'ec-p256'$'\n''ec-p384'$'\n''ed25519'$'\n''rsa-2048'$'\n''rsa-3072'$'\n''rsa-4096'
        return
        ;;
    '--root-validity')
        return
        ;;
    '--issuing-validity')
        return
        ;;
    '--crl-validity')
        return
        ;;
    '--public-url')
        return
        ;;
    '--profile')
        __iotca_add_completions -W 'standard'$'\n''matter'
        return
        ;;
    '--vid')
        return
        ;;
    '--pid')
        return
        ;;
    '--pkcs11')
        return
        ;;
    '--pkcs11-module')
        return
        ;;
    esac
}

_iotca_issue() {
    repeating_flags=()
    non_repeating_flags=(--json --renew --supersede --keep-key --new-key --force --version -h --help)
    repeating_options=(--san --attr)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --server --client-cert --client-key --server-ca --ca --template --validity --vid --pid --cd --csr --out --format --bundle-passphrase-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--server')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--server-ca')
        return
        ;;
    '--ca')
        return
        ;;
    '--template')
        return
        ;;
    '--validity')
        return
        ;;
    '--san')
        return
        ;;
    '--attr')
        return
        ;;
    '--vid')
        return
        ;;
    '--pid')
        return
        ;;
    '--cd')
        return
        ;;
    '--csr')
        return
        ;;
    '--out')
        return
        ;;
    '--format')
        __iotca_add_completions -W 'dir'$'\n''pem'$'\n''p12'$'\n''zip'$'\n''matter'$'\n''json'$'\n''jsonl'
        return
        ;;
    '--bundle-passphrase-file')
        return
        ;;
    esac
}

_iotca_batch() {
    repeating_flags=()
    non_repeating_flags=(--json --fail-fast --version -h --help)
    repeating_options=(--allow-template)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --server --client-cert --client-key --server-ca --out --format --jobs --ca --template --bundle-passphrase-file --cd)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--server')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--server-ca')
        return
        ;;
    '--out')
        return
        ;;
    '--format')
        __iotca_add_completions -W 'dir'$'\n''pem'$'\n''p12'$'\n''zip'$'\n''matter'$'\n''json'$'\n''jsonl'
        return
        ;;
    '--jobs')
        return
        ;;
    '--ca')
        return
        ;;
    '--template')
        return
        ;;
    '--allow-template')
        return
        ;;
    '--bundle-passphrase-file')
        return
        ;;
    '--cd')
        return
        ;;
    esac
}

_iotca_revoke() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --server --client-cert --client-key --server-ca --thing --ca --reason --invalidity-date)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--server')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--server-ca')
        return
        ;;
    '--thing')
        return
        ;;
    '--ca')
        return
        ;;
    '--reason')
        return
        ;;
    '--invalidity-date')
        return
        ;;
    esac
}

_iotca_crl() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    publish|show)
        # Offer subcommand argument completions
        "_iotca_crl_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'publish show' -- "${cur}"))
        ;;
    esac
}

_iotca_crl_publish() {
    repeating_flags=()
    non_repeating_flags=(--json --all --if-due --version -h --help)
    repeating_options=(--ca)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--ca')
        return
        ;;
    esac
}

_iotca_crl_show() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --ca)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--ca')
        return
        ;;
    esac
}

_iotca_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --server --client-cert --client-key --server-ca --thing --status --ca --template --expiring-within --format)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--server')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--server-ca')
        return
        ;;
    '--thing')
        return
        ;;
    '--status')
        return
        ;;
    '--ca')
        return
        ;;
    '--template')
        return
        ;;
    '--expiring-within')
        return
        ;;
    '--format')
        __iotca_add_completions -W 'table'$'\n''json'$'\n''jsonl'
        return
        ;;
    esac
}

_iotca_show() {
    repeating_flags=()
    non_repeating_flags=(--json --pem --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --server --client-cert --client-key --server-ca)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--server')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--server-ca')
        return
        ;;
    esac
}

_iotca_ca() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create|create-service|import|list|show|set|disable|enable|rotate-root|prepare-root|verification-cert|move-key)
        # Offer subcommand argument completions
        "_iotca_ca_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create create-service import list show set disable enable rotate-root prepare-root verification-cert move-key' -- "${cur}"))
        ;;
    esac
}

_iotca_ca_create() {
    repeating_flags=()
    non_repeating_flags=(--json --external --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --parent --csr-out --key-type --validity --template --crl-validity --crl-url --ca-issuers-url --ocsp-url --on-publish --pkcs11 --pkcs11-module --vid --pid)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--parent')
        return
        ;;
    '--csr-out')
        return
        ;;
    '--key-type')
        __iotca_add_completions -W 'ec-p256'$'\n''ec-p384'$'\n''ed25519'$'\n''rsa-2048'$'\n''rsa-3072'$'\n''rsa-4096'
        return
        ;;
    '--validity')
        return
        ;;
    '--template')
        return
        ;;
    '--crl-validity')
        return
        ;;
    '--crl-url')
        return
        ;;
    '--ca-issuers-url')
        return
        ;;
    '--ocsp-url')
        return
        ;;
    '--on-publish')
        return
        ;;
    '--pkcs11')
        return
        ;;
    '--pkcs11-module')
        return
        ;;
    '--vid')
        return
        ;;
    '--pid')
        return
        ;;
    esac
}

_iotca_ca_create-service() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_ca_import() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --cert --chain)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--cert')
        return
        ;;
    '--chain')
        return
        ;;
    esac
}

_iotca_ca_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_ca_show() {
    repeating_flags=()
    non_repeating_flags=(--json --pem --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_ca_set() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --crl-validity --crl-url --ca-issuers-url --ocsp-url --on-publish)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--crl-validity')
        return
        ;;
    '--crl-url')
        return
        ;;
    '--ca-issuers-url')
        return
        ;;
    '--ocsp-url')
        return
        ;;
    '--on-publish')
        return
        ;;
    esac
}

_iotca_ca_disable() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_ca_enable() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_ca_rotate-root() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --validity)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--validity')
        return
        ;;
    esac
}

_iotca_ca_prepare-root() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_ca_verification-cert() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --ca --code --out)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--ca')
        return
        ;;
    '--code')
        return
        ;;
    '--out')
        return
        ;;
    esac
}

_iotca_ca_move-key() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --to --pkcs11-module)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--to')
        return
        ;;
    '--pkcs11-module')
        return
        ;;
    esac
}

_iotca_passphrase() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    change)
        # Offer subcommand argument completions
        "_iotca_passphrase_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'change' -- "${cur}"))
        ;;
    esac
}

_iotca_passphrase_change() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --new-passphrase-file)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--new-passphrase-file')
        return
        ;;
    esac
}

_iotca_pins() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--ca --thing)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --server --client-cert --client-key --server-ca --format)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--server')
        return
        ;;
    '--client-cert')
        return
        ;;
    '--client-key')
        return
        ;;
    '--server-ca')
        return
        ;;
    '--ca')
        return
        ;;
    '--thing')
        return
        ;;
    '--format')
        __iotca_add_completions -W 'text'$'\n''json'$'\n''c'$'\n''curl'$'\n''hpkp'
        return
        ;;
    esac
}

_iotca_trust-store() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(--ca)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --format --idf-version --out)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--format')
        return
        ;;
    '--ca')
        return
        ;;
    '--idf-version')
        return
        ;;
    '--out')
        return
        ;;
    esac
}

_iotca_aws() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    export)
        # Offer subcommand argument completions
        "_iotca_aws_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'export' -- "${cur}"))
        ;;
    esac
}

_iotca_aws_export() {
    repeating_flags=()
    non_repeating_flags=(--sni-only --all --revocations --version -h --help)
    repeating_options=(--thing)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --out --ca --registration-code --role-arn --policy-name --template --things)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--out')
        return
        ;;
    '--ca')
        return
        ;;
    '--registration-code')
        return
        ;;
    '--role-arn')
        return
        ;;
    '--policy-name')
        return
        ;;
    '--template')
        return
        ;;
    '--things')
        return
        ;;
    '--thing')
        return
        ;;
    esac
}

_iotca_template() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|show|add|remove)
        # Offer subcommand argument completions
        "_iotca_template_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list show add remove' -- "${cur}"))
        ;;
    esac
}

_iotca_template_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_template_show() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_template_add() {
    repeating_flags=()
    non_repeating_flags=(--replace --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_template_remove() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_doctor() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --bundles --sample)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--bundles')
        return
        ;;
    '--sample')
        return
        ;;
    esac
}

_iotca_audit() {
    repeating_flags=()
    non_repeating_flags=(--events --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --format --since)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--format')
        __iotca_add_completions -W 'csv'$'\n''json'$'\n''jsonl'
        return
        ;;
    '--since')
        return
        ;;
    esac
}

_iotca_serve() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --api-listen --public-listen --config --tls-cert --tls-key --server-name --workers --log-level)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--api-listen')
        return
        ;;
    '--public-listen')
        return
        ;;
    '--config')
        return
        ;;
    '--tls-cert')
        return
        ;;
    '--tls-key')
        return
        ;;
    '--server-name')
        return
        ;;
    '--workers')
        return
        ;;
    '--log-level')
        return
        ;;
    esac
}

_iotca_broker-config() {
    repeating_flags=()
    non_repeating_flags=(--json --set-on-publish --force --version -h --help)
    repeating_options=(--san --ca)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --out --server-thing --server-ca --bind --mqtt-port --wss-port --https-port --websockets-port --server-name --https-upstream --mosquitto-reload --nginx-reload --key-group)
    __iotca_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--out')
        return
        ;;
    '--server-thing')
        return
        ;;
    '--san')
        return
        ;;
    '--ca')
        return
        ;;
    '--server-ca')
        return
        ;;
    '--bind')
        return
        ;;
    '--mqtt-port')
        return
        ;;
    '--wss-port')
        return
        ;;
    '--https-port')
        return
        ;;
    '--websockets-port')
        return
        ;;
    '--server-name')
        return
        ;;
    '--https-upstream')
        return
        ;;
    '--mosquitto-reload')
        return
        ;;
    '--nginx-reload')
        return
        ;;
    '--key-group')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __iotca_add_completions -W 'mosquitto'$'\n''nginx'
        return
        ;;
    esac
}

_iotca_station() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create|grant)
        # Offer subcommand argument completions
        "_iotca_station_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create grant' -- "${cur}"))
        ;;
    esac
}

_iotca_station_create() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--grant)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --ca --out)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--grant')
        return
        ;;
    '--ca')
        return
        ;;
    '--out')
        return
        ;;
    esac
}

_iotca_station_grant() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(--grant)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--grant')
        return
        ;;
    esac
}

_iotca_operator() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create)
        # Offer subcommand argument completions
        "_iotca_operator_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create' -- "${cur}"))
        ;;
    esac
}

_iotca_operator_create() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --ca --out)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--ca')
        return
        ;;
    '--out')
        return
        ;;
    esac
}

_iotca_enrol-token() {
    repeating_flags=()
    non_repeating_flags=(--json --est-only --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --template --expires)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--template')
        return
        ;;
    '--expires')
        return
        ;;
    esac
}

_iotca_claim() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create)
        # Offer subcommand argument completions
        "_iotca_claim_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create' -- "${cur}"))
        ;;
    esac
}

_iotca_claim_create() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--grant)
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --ca --out)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--grant')
        return
        ;;
    '--ca')
        return
        ;;
    '--out')
        return
        ;;
    esac
}

_iotca_thing() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    reopen)
        # Offer subcommand argument completions
        "_iotca_thing_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'reopen' -- "${cur}"))
        ;;
    esac
}

_iotca_thing_reopen() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_store() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    migrate|compact)
        # Offer subcommand argument completions
        "_iotca_store_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'migrate compact' -- "${cur}"))
        ;;
    esac
}

_iotca_store_migrate() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--from --to --db-password-file --node-dir)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--from')
        return
        ;;
    '--to')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    esac
}

_iotca_store_compact() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    esac
}

_iotca_matter() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    revocation-set|test-set)
        # Offer subcommand argument completions
        "_iotca_matter_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'revocation-set test-set' -- "${cur}"))
        ;;
    esac
}

_iotca_matter_revocation-set() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--store --db-password-file --node-dir --passphrase-file --pin-file --ca --out)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--store')
        return
        ;;
    '--db-password-file')
        return
        ;;
    '--node-dir')
        return
        ;;
    '--passphrase-file')
        return
        ;;
    '--pin-file')
        return
        ;;
    '--ca')
        return
        ;;
    '--out')
        return
        ;;
    esac
}

_iotca_matter_test-set() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--out --vid --pid --count)
    __iotca_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--out')
        return
        ;;
    '--vid')
        return
        ;;
    '--pid')
        return
        ;;
    '--count')
        return
        ;;
    esac
}

_iotca_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __iotca_offer_flags_options -1
}

complete -o filenames -F _iotca iotca
