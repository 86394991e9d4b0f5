"""What QuickBooks Online's entities are (from Finance.xsd): names, writable and read-only lists, the
properties its deserializer accepts, computed fields, and the company's time zone and currencies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


try:  # QBO reports times in the company's zone; sandbox companies are US/Pacific.
    from zoneinfo import ZoneInfo

    COMPANY_TZ: dt.tzinfo = ZoneInfo("America/Los_Angeles")
except Exception:  # pragma: no cover - no tz database installed
    COMPANY_TZ = dt.timezone(dt.timedelta(hours=-8))

CENT = Decimal("0.01")
HOME_CURRENCY = "USD"
CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "AUD": "Australian Dollar",
}
#: Home-currency units per one foreign unit (QBO's ExchangeRate convention).
#: Real QBO uses a daily market rate; the sandbox uses this fixed table.
EXCHANGE_RATES = {"USD": Decimal("1"), "CAD": Decimal("0.73"), "EUR": Decimal("1.08"),
                  "GBP": Decimal("1.27"), "AUD": Decimal("0.66")}

WRITABLE = ("Customer", "Item", "Invoice", "Payment", "CreditMemo", "Deposit", "Vendor", "Purchase", "Bill",
            "BillPayment", "JournalEntry")
READ_ONLY = ("Account", "TaxCode", "TaxRate", "CompanyInfo", "Preferences", "CompanyCurrency", "Class", "Department")
ENTITIES = WRITABLE + READ_ONLY
#: Lower-case URL path segment -> entity name.
PATH_ENTITIES = {name.lower(): name for name in ENTITIES}
TRANSACTIONS = ("Invoice", "Payment", "CreditMemo", "Deposit", "Purchase", "Bill", "BillPayment", "JournalEntry")
#: Name-list entities: a query without an ``Active`` filter returns only active rows.
NAME_LISTS = ("Customer", "Vendor", "Item", "Account", "TaxCode", "TaxRate", "CompanyCurrency", "Class", "Department")

_ENTITY_BASE = "Id SyncToken MetaData CustomField AttachableRef domain sparse status"
_TXN = _ENTITY_BASE + (" DocNumber TxnDate DepartmentRef CurrencyRef ExchangeRate PrivateNote TxnStatus"
                       " LinkedTxn Line TxnTaxDetail TxnSource TaxFormType TaxFormNum TransactionLocationType"
                       " Tag TxnApprovalInfo RecurDataRef RecurringInfo ProjectRef TotalCostAmount"
                       " HomeTotalCostAmount")
_SALES = _TXN + (" AutoDocNumber CustomerRef CustomerMemo BillAddr ShipAddr FreeFormAddress ShipFromAddr"
                 " RemitToRef ClassRef SalesTermRef DueDate SalesRepRef PONumber FOB ShipMethodRef ShipDate"
                 " TrackingNum GlobalTaxCalculation TotalAmt HomeTotalAmt ApplyTaxAfterDiscount"
                 " ShippingTaxIncludedInTotalTax TemplateRef PrintStatus EmailStatus BillEmail BillEmailCc"
                 " BillEmailBcc ARAccountRef Balance HomeBalance FinanceCharge PaymentMethodRef PaymentRefNum"
                 " PaymentType CheckPayment CreditCardPayment DepositToAccountRef DeliveryInfo DiscountRate"
                 " DiscountAmt GovtTxnRefIdentifier TaxExemptionRef")
#: Top-level properties QBO's deserializer accepts (from Finance.xsd); anything
#: else is rejected with 2010 like the real platform does.
ALLOWED_FIELDS = {
    "Customer": set((_ENTITY_BASE + " IntuitId Organization Title GivenName MiddleName FamilyName Suffix"
                     " FullyQualifiedName CompanyName DisplayName PrintOnCheckName UserId Active PrimaryPhone"
                     " AlternatePhone Mobile Fax PrimaryEmailAddr WebAddr OtherContactInfo DefaultTaxCodeRef"
                     " Taxable BillAddr ShipAddr OtherAddr ContactName AltContactName Notes Job BillWithParent"
                     " RootCustomerRef ParentRef Level CustomerTypeRef SalesTermRef SalesRepRef TaxGroupCodeRef"
                     " TaxRateRef PaymentMethodRef CCDetail PriceLevelRef Balance OpenBalanceDate"
                     " BalanceWithJobs CreditLimit AcctNum CurrencyRef OverDueBalance TotalRevenue TotalExpense"
                     " PreferredDeliveryMethod ResaleNum JobInfo TDSEnabled CustomerEx SecondaryTaxIdentifier"
                     " ARAccountRef PrimaryTaxIdentifier TaxExemptionReasonId IsProject BusinessNumber GSTIN"
                     " GSTRegistrationType Source").split()),
    "Item": set((_ENTITY_BASE + " Name Sku Description Active SubItem ParentRef Level FullyQualifiedName"
                 " Taxable SalesTaxIncluded PercentBased UnitPrice RatePercent Type PaymentMethodRef UOMSetRef"
                 " IncomeAccountRef PurchaseDesc PurchaseTaxIncluded PurchaseCost ExpenseAccountRef"
                 " COGSAccountRef AssetAccountRef PrefVendorRef AvgCost TrackQtyOnHand QtyOnHand"
                 " QtyOnPurchaseOrder QtyOnSalesOrder ReorderPoint ManPartNum DepositToAccountRef"
                 " SalesTaxCodeRef PurchaseTaxCodeRef InvStartDate ClassRef Source").split()),
    "Invoice": set((_SALES + " Deposit AllowIPNPayment AllowOnlinePayment AllowOnlineCreditCardPayment"
                    " AllowOnlineACHPayment AllowOnlinePayPalPayment EInvoiceStatus InvoiceLink").split()),
    "CreditMemo": set((_SALES + " RemainingCredit InvoiceRef").split()),
    "Payment": set((_TXN + " CustomerRef RemitToRef ARAccountRef DepositToAccountRef PaymentMethodRef"
                    " PaymentRefNum PaymentType CheckPayment CreditCardPayment TotalAmt UnappliedAmt"
                    " ProcessPayment").split()),
    #: Deposit (Finance.xsd): money into a bank account, its lines payments taken out of Undeposited Funds
    #: (``LinkedTxn``) or other amounts (``DepositLineDetail``: a processor's fee as a negative line).
    "Deposit": set((_TXN + " DepositToAccountRef CashBack TotalAmt HomeTotalAmt GlobalTaxCalculation"
                    " TransactionLocationType").split()),
    #: Vendor (IntuitNamesTypes.xsd), Purchase and JournalEntry (Finance.xsd): see ``costs``.
    "Vendor": set((_ENTITY_BASE + " IntuitId Organization Title GivenName MiddleName FamilyName Suffix"
                   " FullyQualifiedName CompanyName DisplayName PrintOnCheckName UserId Active PrimaryPhone"
                   " AlternatePhone Mobile Fax PrimaryEmailAddr WebAddr OtherContactInfo ContactName AltContactName"
                   " Notes BillAddr ShipAddr OtherAddr TaxCountry TaxIdentifier TaxIdEffectiveDate BusinessNumber"
                   " ParentRef VendorTypeRef TermRef PrefillAccountRef Balance BillRate OpenBalanceDate CreditLimit"
                   " AcctNum Vendor1099 T4AEligible T5018Eligible CurrencyRef TDSEnabled TDSEntityTypeId"
                   " TDSSectionTypeId TDSOverrideThreshold TaxReportingBasis APAccountRef VendorEx").split()),
    "Purchase": set((_TXN + " AccountRef PaymentMethodRef PaymentRefNum PaymentType CheckPayment CreditCardPayment"
                     " EntityRef Credit RemitToAddr TotalAmt Memo PrintStatus GlobalTaxCalculation"
                     " PurchaseEx LessCIS IncludeInAnnualTPAR").split()),
    #: Bill (Finance.xsd): a PurchaseByVendor (VendorRef, APAccountRef, TotalAmt, ...) with its own fields.
    "Bill": set((_TXN + " VendorRef APAccountRef TotalAmt BillEmail ReplyEmail Memo GlobalTaxCalculation PayerRef"
                 " SalesTermRef DueDate RemitToAddr ShipAddr VendorAddr Balance HomeBalance BillEx LessCIS"
                 " IncludeInAnnualTPAR").split()),
    #: BillPayment (Finance.xsd): a vendor's bills paid by check or credit card.
    "BillPayment": set((_TXN + " VendorRef VendorAddr APAccountRef PayType CheckPayment CreditCardPayment TotalAmt"
                        " BillPaymentEx").split()),
    "JournalEntry": set((_TXN + " Adjustment HomeCurrencyAdjustment EnteredInHomeCurrency GlobalTaxCalculation"
                         " TotalAmt HomeTotalAmt JournalEntryEx").split()),
}
#: Output-only fields we recompute; values sent by clients are ignored.
COMPUTED = {
    "Customer": {"FullyQualifiedName", "Level", "Balance", "BalanceWithJobs"},
    "Item": {"FullyQualifiedName", "Level"},
    "Invoice": {"TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "LinkedTxn"},
    "CreditMemo": {"TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "RemainingCredit", "LinkedTxn"},
    "Payment": {"UnappliedAmt", "LinkedTxn"},
    "Deposit": {"TotalAmt", "HomeTotalAmt"},
    "Vendor": {"FullyQualifiedName", "Balance"},
    "Purchase": {"TotalAmt", "LinkedTxn"},  # no HomeTotalAmt: Finance.xsd gives a purchase none
    "Bill": {"TotalAmt", "Balance", "HomeBalance", "LinkedTxn"},
    "BillPayment": {"LinkedTxn"},  # no HomeTotalAmt: Finance.xsd gives a bill payment none
    "JournalEntry": {"TotalAmt", "HomeTotalAmt"},
}
#: Entities change data capture reports on. QBO excludes JournalCode, TimeActivity, TaxAgency, TaxCode and TaxRate.
CDC_ENTITIES = tuple(name for name in ENTITIES if name not in ("TaxCode", "TaxRate"))
CDC_LOOKBACK_DAYS = 30
CDC_MAX_OBJECTS = 1000
LINE_TYPES = ("SalesItemLineDetail", "DiscountLineDetail", "SubTotalLineDetail", "DescriptionOnly",
              "GroupLineDetail", "TaxLineDetail", "PaymentLineDetail")
MAX_DOCNUMBER = 21
