# Helpers shared by the OBAgent Pester tests. Each test gets its own temporary folder holding
# its OBAGENT_HOME, vaults and credentials files, and its own server name; Remove-TestContext
# deletes the folder and clears every OBAGENT_* variable.

$script:EnvNames = 'OBAGENT_HOME', 'OBAGENT_SERVER_NAME', 'OBAGENT_NOW'

function Import-OBAgentUnderTest {
    $module = $env:OBAGENT_TEST_MODULE
    if (-not $module) { throw 'OBAGENT_TEST_MODULE is not set; run the tests through tests/pester/run.ps1.' }
    Import-Module (Join-Path $module 'OBAgent.psd1') -Force -Global -ErrorAction Stop
}

function New-TestContext {
    $id = [guid]::NewGuid().ToString('N').Substring(0, 12)
    $root = Join-Path ([IO.Path]::GetTempPath()) "obagent-pester-$id"
    New-Item -ItemType Directory -Path $root | Out-Null
    $creds = Join-Path $root 'creds'
    New-Item -ItemType Directory -Path $creds | Out-Null
    $ctx = [pscustomobject]@{
        Root       = $root
        Home       = Join-Path $root 'home'
        Vault      = Join-Path $root 'vault'
        Creds      = $creds
        ServerName = "srv-$id"
        VaultName  = "Vault-$id"
    }
    foreach ($n in $script:EnvNames) { Remove-Item "Env:$n" -ErrorAction SilentlyContinue }
    $env:OBAGENT_HOME = $ctx.Home
    $env:OBAGENT_SERVER_NAME = $ctx.ServerName
    $ctx
}

function Remove-TestContext {
    param($Context)
    foreach ($n in $script:EnvNames) { Remove-Item "Env:$n" -ErrorAction SilentlyContinue }
    if ($Context -and (Test-Path -LiteralPath $Context.Root)) {
        Get-ChildItem -LiteralPath $Context.Root -Recurse -Force -ErrorAction SilentlyContinue |
            Where-Object { -not $_.PSIsContainer } |
            ForEach-Object { try { $_.IsReadOnly = $false } catch { } }
        Remove-Item -LiteralPath $Context.Root -Recurse -Force -ErrorAction SilentlyContinue
    }
}

# The PowerShell executable to start a fresh process with (pwsh may be a dotnet global tool,
# whose process is dotnet itself).
function Get-PwshPath {
    if ($PSVersionTable.PSEdition -eq 'Desktop') { return (Join-Path $PSHOME 'powershell.exe') }
    $cmd = Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($cmd) { return $cmd.Source }
    foreach ($n in 'pwsh', 'pwsh.exe') {
        $p = Join-Path $PSHOME $n
        if (Test-Path -LiteralPath $p) { return $p }
    }
    throw 'Cannot find pwsh to start a fresh process.'
}

# Runs a script block and returns the ErrorRecord it failed with, or $null when it did not fail.
function Get-ErrorRecord {
    param([scriptblock] $Script)
    try {
        & $Script | Out-Null
        $null
    } catch {
        $_
    }
}

function ConvertTo-TestSecret {
    param([string] $Text)
    $s = New-Object System.Security.SecureString
    foreach ($c in $Text.ToCharArray()) { $s.AppendChar($c) }
    $s.MakeReadOnly()
    $s
}

# An ISO 8601 UTC time offset from now, for OBAGENT_NOW.
function Get-TestTime {
    param([TimeSpan] $Offset)
    [DateTime]::UtcNow.Add($Offset).ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
}

# Creates the context's vault (unless it exists: a second server of the same vault, or the same
# server again) and a credentials file, and registers the context's server.
function Register-TestServer {
    param($Context, [string] $VaultPath = $Context.Vault, [string] $VaultName = $Context.VaultName)
    if (-not (Get-ChildItem -LiteralPath $VaultPath -Force -ErrorAction SilentlyContinue | Select-Object -First 1)) {
        New-OBVault -Name $VaultName -Path $VaultPath | Out-Null
    }
    $file = Get-OBVaultCredentials -Path $VaultPath -OutputPath $Context.Creds
    Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false | Out-Null
    $file
}

# True when the bytes of any file under Path contain Text (as UTF-8/ASCII or as UTF-16LE).
function Test-SecretInFiles {
    param([string] $Path, [string] $Text)
    $latin1 = [Text.Encoding]::GetEncoding(28591)
    $needles = @(
        $latin1.GetString([Text.Encoding]::UTF8.GetBytes($Text)),
        $latin1.GetString([Text.Encoding]::Unicode.GetBytes($Text))
    )
    foreach ($f in Get-ChildItem -LiteralPath $Path -Recurse -Force -File -ErrorAction SilentlyContinue) {
        $bytes = [IO.File]::ReadAllBytes($f.FullName)
        $hay = $latin1.GetString($bytes)
        foreach ($n in $needles) {
            if ($hay.Contains($n)) { return $f.FullName }
        }
    }
    $null
}

Export-ModuleMember -Function *
