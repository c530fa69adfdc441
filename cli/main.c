// SPDX-License-Identifier: BSD-2-Clause
/* placeholder */
int main(void)
{
	return 0;
}
