/// The exit statuses, written once: `sqbackup --help` shows them, the man page is generated from
/// that help, and the README points to both.
enum ExitStatusText {
    static let discussion = """
        Exit status:
          0    done
          1    failed; the error's code (BACKUP_NOT_FOUND etc.) says why
          3    partial restore: the listed entries were not restored, the rest was
          64   usage: a bad flag, argument or mount option
          130  interrupted by SIGINT or SIGTERM (OPERATION_INTERRUPTED)
        """
}
